/** The Node build of webhook verification: the HMAC from `node:crypto` (synchronous, no WebCrypto needed), same rules. */

import { createHmac } from "node:crypto";
import { type Hmac, type SignedDelivery, computeSignature as compute, verifyWebhookSignature as verify } from "./webhooks.js";

const nodeHmac: Hmac = (secret, payload) => new Uint8Array(createHmac("sha256", secret).update(payload).digest());

export function computeSignature(secret: string, timestamp: string | number, body: string | Uint8Array): Promise<string> {
  return compute(secret, timestamp, body, nodeHmac);
}

export function verifyWebhookSignature(delivery: SignedDelivery): Promise<void> {
  return verify(delivery, nodeHmac);
}
