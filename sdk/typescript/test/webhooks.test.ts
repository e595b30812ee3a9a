import { describe, expect, it } from "vitest";
import * as web from "../src/index.js";
import * as node from "../src/node.js";
import { WebhookVerificationError } from "../src/index.js";

// The Python client's known vector (tests/sdk/test_sdk_webhook_signature.py), from
// printf '%s' '1700000000.{"event":"ping","data":{"id":1}}' | openssl dgst -sha256 -hmac whsec_test_secret
const SECRET = "whsec_test_secret";
const BODY = '{"event":"ping","data":{"id":1}}';
const STAMP = "1700000000";
const KNOWN = "sha256=f1cddfb7c15f3c763ea7e8792d30e92d9363d2ef41027f80b49a2ad5d4776571";

describe.each([
  ["WebCrypto", web],
  ["node:crypto", node],
])("webhook signatures (%s build)", (_name, build) => {
  it("accepts a valid signature, also among several (rotation)", async () => {
    const signature = await build.computeSignature(SECRET, STAMP, BODY);
    expect(signature).toBe(KNOWN);
    await build.verifyWebhookSignature({ secret: SECRET, body: BODY, signature, timestamp: STAMP, now: 1700000010 });
    await build.verifyWebhookSignature({
      secret: SECRET,
      body: new TextEncoder().encode(BODY),
      signature: `sha256=${"0".repeat(64)}, ${signature}`,
      timestamp: STAMP,
      now: 1700000010,
    });
  });

  it("refuses a tampered body, a wrong secret, a stale timestamp and garbage", async () => {
    const signature = await build.computeSignature(SECRET, STAMP, BODY);
    const base = { secret: SECRET, body: BODY, signature, timestamp: STAMP, now: 1700000010 };
    const cases: [Partial<typeof base>, string][] = [
      [{ body: BODY.replace("1", "2") }, "invalid_signature"],
      [{ secret: "whsec_other" }, "invalid_signature"],
      [{ signature: "md5=abc" }, "invalid_signature"],
      [{ now: 1700000000 + 301 }, "timestamp_out_of_tolerance"],
      [{ timestamp: "yesterday" }, "invalid_timestamp"],
    ];
    for (const [change, code] of cases) {
      const error = await build.verifyWebhookSignature({ ...base, ...change }).catch((e: unknown) => e);
      expect(error, JSON.stringify(change)).toBeInstanceOf(WebhookVerificationError);
      expect((error as WebhookVerificationError).code).toBe(code);
    }
    await build.verifyWebhookSignature({ ...base, now: 1700000000 + 1000, toleranceSeconds: 2000 });
  });

  it("agrees with the other build byte for byte", async () => {
    const other = build === web ? node : web;
    expect(await build.computeSignature("s3cret", 1, "ü")).toBe(await other.computeSignature("s3cret", 1, "ü"));
  });
});
