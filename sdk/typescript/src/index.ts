/**
 * `@switchboard/client` — the TypeScript client for Switchboard (Node ≥ 20 and browsers).
 *
 *     const sb = new Switchboard({ baseUrl: "http://127.0.0.1:8000" });
 *     await sb.auth.login("dana", "…");
 *     const { session_id } = await sb.chat.createSession("what are my open Jira tickets?");
 *     for await (const frame of sb.chat.stream(session_id)) if (frame.type === "token") print(frame.content);
 */

export { Switchboard, type SwitchboardOptions } from "./client.js";
export * from "./errors.js";
export { HttpCore, MemoryTokenStore, type Query, type RequestOptions, type StoredTokens, type TokenStore } from "./http.js";
export * from "./protocol.js";
export { ChatStream, type ApprovalAnswer, type StreamOptions, type Transport } from "./stream.js";
export type { Subscription } from "./events.js";
export type { MessageFilters, Paging } from "./resources.js";
export type * from "./types.js";
export {
  computeSignature,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  type SignedDelivery,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from "./webhooks.js";
