/**
 * Verify that a webhook delivery came from Switchboard and is fresh — the same rules as the Python
 * client: `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` keyed with
 * the webhook's secret, `X-Switchboard-Timestamp` within `toleranceSeconds` of now, several
 * comma-separated signatures accepted (secret rotation), constant-time comparison. Verify the raw
 * body as received, before parsing it. This build uses WebCrypto (browsers, Deno, Node ≥ 20).
 */

import { WebhookVerificationError } from "./errors.js";

export const SIGNATURE_HEADER = "X-Switchboard-Signature";
export const TIMESTAMP_HEADER = "X-Switchboard-Timestamp";
export const EVENT_HEADER = "X-Switchboard-Event";
export const DELIVERY_HEADER = "X-Switchboard-Delivery";

export interface SignedDelivery {
  secret: string;
  /** The raw request body, exactly as received. */
  body: string | Uint8Array;
  /** The `X-Switchboard-Signature` header. */
  signature: string;
  /** The `X-Switchboard-Timestamp` header (unix seconds). */
  timestamp: string | number;
  toleranceSeconds?: number;
  /** Now, in unix seconds (tests). */
  now?: number;
}

const encoder = new TextEncoder();

export type Hmac = (secret: string, payload: Uint8Array) => Promise<Uint8Array> | Uint8Array;

async function webCryptoHmac(secret: string, payload: Uint8Array): Promise<Uint8Array> {
  const key = await globalThis.crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, payload as BufferSource));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Equal-length strings compared without an early exit, so timing does not reveal where they differ. */
function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) difference |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return difference === 0;
}

function signedPayload(timestamp: string, body: string | Uint8Array): Uint8Array {
  const prefix = encoder.encode(`${timestamp}.`);
  const raw = typeof body === "string" ? encoder.encode(body) : body;
  const payload = new Uint8Array(prefix.length + raw.length);
  payload.set(prefix);
  payload.set(raw, prefix.length);
  return payload;
}

/** The `sha256=<hex>` header value for `body` sent at `timestamp`. */
export async function computeSignature(secret: string, timestamp: string | number, body: string | Uint8Array, hmac: Hmac = webCryptoHmac): Promise<string> {
  return `sha256=${hex(await hmac(secret, signedPayload(String(timestamp).trim(), body)))}`;
}

/** Throw `WebhookVerificationError` (with `code`) unless the delivery is signed with `secret` and fresh. */
export async function verifyWebhookSignature(delivery: SignedDelivery, hmac: Hmac = webCryptoHmac): Promise<void> {
  const stamp = String(delivery.timestamp).trim();
  const sentAt = Number(stamp);
  if (!stamp || !Number.isFinite(sentAt)) {
    throw new WebhookVerificationError("The timestamp is not a number of seconds", { code: "invalid_timestamp" });
  }
  const tolerance = delivery.toleranceSeconds ?? 300;
  const now = delivery.now ?? Date.now() / 1000;
  if (Math.abs(now - sentAt) > tolerance) {
    throw new WebhookVerificationError(
      `The delivery is ${Math.abs(now - sentAt).toFixed(0)} s away from now (tolerance ${tolerance} s)`,
      { code: "timestamp_out_of_tolerance" },
    );
  }
  const expected = await computeSignature(delivery.secret, stamp, delivery.body, hmac);
  const candidates = delivery.signature.split(",").map((part) => part.trim()).filter((part) => part.startsWith("sha256="));
  if (!candidates.length) throw new WebhookVerificationError("No sha256= signature in the header", { code: "invalid_signature" });
  // Compare every candidate so the time taken does not reveal which one matched.
  let matched = false;
  for (const candidate of candidates) matched = constantTimeEqual(candidate, expected) || matched;
  if (!matched) throw new WebhookVerificationError("The signature does not match the body", { code: "invalid_signature" });
}
