/**
 * The stream protocol's types (generated from the backend's pydantic frames, src/generated/frames.ts)
 * and the one parser every client uses for incoming frames.
 */

import type {
  AgentEventFrame,
  ApprovalFrame,
  ApprovalRequiredFrame,
  AuthFrame,
  CancelFrame,
  ConnectionEstablishedFrame,
  EditFrame,
  ErrorFrame,
  EventFrame,
  FinalFrame,
  MessageFrame,
  PingFrame,
  PongFrame,
  RegenerateFrame,
  ResumeFrame,
  TokenFrame,
  ToolCallFrame,
  ToolResultFrame,
} from "./generated/frames.js";

export type {
  AgentEventFrame,
  AgentEventMetadata,
  ApprovalFrame,
  ApprovalRequiredFrame,
  ApprovalRequiredMetadata,
  AuthFrame,
  CancelFrame,
  ConnectionEstablishedFrame,
  EditFrame,
  ErrorFrame,
  ErrorMetadata,
  EventClientFrame,
  EventFrame,
  FinalFrame,
  FinalMetadata,
  MessageFrame,
  PingFrame,
  PongFrame,
  RegenerateFrame,
  ResumeFrame,
  TokenFrame,
  TokenMetadata,
  ToolCallFrame,
  ToolCallMetadata,
  ToolResultFrame,
  ToolResultMetadata,
  Usage,
} from "./generated/frames.js";

export type ServerFrame =
  | ConnectionEstablishedFrame
  | AgentEventFrame
  | ToolCallFrame
  | ToolResultFrame
  | ApprovalRequiredFrame
  | TokenFrame
  | FinalFrame
  | ErrorFrame
  | PongFrame;
export type ServerFrameType = ServerFrame["type"];
export type ClientFrame =
  | MessageFrame
  | CancelFrame
  | RegenerateFrame
  | EditFrame
  | ApprovalFrame
  | ResumeFrame
  | PingFrame
  | AuthFrame;
export type FinishReason = FinalFrame["metadata"]["finish_reason"];
export type Decision = "approve" | "edit" | "reject";

export const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set<ServerFrameType>([
  "connection_established",
  "agent_event",
  "tool_call",
  "tool_result",
  "approval_required",
  "token",
  "final",
  "error",
  "pong",
]);

/** WebSocket close codes the server uses. */
export const CloseCode = {
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  tooManySockets: 4409,
  slowConsumer: 1013,
} as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validate an incoming frame's envelope: anything malformed is dropped (null), never trusted.
 * Unknown frame types are dropped too, so a newer server never breaks an older client. */
export function parseServerFrame(raw: string | unknown): ServerFrame | null {
  let data: unknown = raw;
  if (typeof raw === "string") {
    try {
      data = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!isObject(data) || typeof data.type !== "string" || !SERVER_FRAME_TYPES.has(data.type)) return null;
  if (typeof data.seq !== "number" || !Number.isFinite(data.seq)) return null;
  return {
    ...data,
    content: typeof data.content === "string" ? data.content : "",
    metadata: isObject(data.metadata) ? data.metadata : {},
    run_id: typeof data.run_id === "string" ? data.run_id : "",
    timestamp: typeof data.timestamp === "string" ? data.timestamp : "",
  } as ServerFrame;
}

/** Validate an events-socket frame `{event, timestamp, data}`; null when malformed. */
export function parseEventFrame(raw: string): EventFrame | null {
  try {
    const data: unknown = JSON.parse(raw);
    if (!isObject(data) || typeof data.event !== "string") return null;
    return {
      ...data,
      event: data.event,
      timestamp: typeof data.timestamp === "string" ? data.timestamp : "",
      data: isObject(data.data) ? data.data : {},
    } as EventFrame;
  } catch {
    return null;
  }
}
