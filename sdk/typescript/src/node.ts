/** The Node entry point: everything of the default one, with webhook verification on `node:crypto`. */

export * from "./index.js";
export { computeSignature, verifyWebhookSignature } from "./webhooks-node.js";
