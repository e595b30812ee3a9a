/**
 * Types mirroring the backend contract (shared/protocol.md, docs/api.md): REST bodies and the
 * WebSocket chat frames. Keep in step with backend/chat/schemas.py and friends.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ------------------------------------------------------------------ auth

export type Role = "admin" | "user";

export interface User {
  id: string;
  email: string;
  username: string;
  full_name: string | null;
  role: Role | string;
  is_verified: boolean;
  is_active: boolean;
  created_at: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  size: number;
  pages: number;
}

// ------------------------------------------------------------------ chat REST

export interface SessionCreated {
  session_id: string;
  message_id: string;
  content: string;
  message_type: "user";
  metadata: { session_title?: string } & JsonObject;
}

export interface ChatSessionSummary {
  session_id: string;
  title: string;
  status: string;
  total_messages: number;
  created_at: string;
  updated_at: string;
  last_message_preview: string | null;
}

/** A tool call as stored on an assistant message (`tool_calls`). */
export interface StoredToolCall {
  id?: string;
  name?: string;
  args?: JsonObject;
  status?: string;
  result?: JsonValue;
  /** The tool's human label and integration type, as in the live frames. */
  label?: string;
  integration_type?: string | null;
}

export interface StoredMessage {
  message_id: string;
  role: "user" | "assistant" | "tool";
  content: string;
  tool_calls?: StoredToolCall[] | null;
  metadata: JsonObject;
  created_at: string;
}

// ------------------------------------------------------------------ WebSocket frames

export type FinishReason = "stop" | "cancelled" | "error";
export type ApprovalDecision = "approve" | "reject" | "edit";

interface FrameBase<T extends string, M> {
  type: T;
  content: string;
  metadata: M;
  timestamp: string;
  seq: number;
  run_id: string;
}

export type ConnectionEstablishedFrame = FrameBase<"connection_established", { session_id: string }>;
export type AgentEventFrame = FrameBase<
  "agent_event",
  { event_type: string; details?: JsonValue; decision?: string; tool_call_id?: string } & JsonObject
>;
/** How the server words a tool (from the tool's metadata): "Demo Jira · my open issues". */
export interface ToolWording {
  tool_label?: string;
  integration_name?: string | null;
  integration_type?: string | null;
  risk?: ToolRisk;
  summary?: string;
}
export type ToolRisk = "read" | "write" | "destructive" | "patient_data";
export type ToolCallFrame = FrameBase<
  "tool_call",
  { tool_name: string; tool_call_id: string; args: JsonObject; status: "started" } & ToolWording
>;
export type ToolResultFrame = FrameBase<
  "tool_result",
  { tool_name: string; tool_call_id: string; status: "completed" | "failed"; result: JsonValue } & ToolWording
>;
export type ApprovalRequiredFrame = FrameBase<
  "approval_required",
  {
    tool_call_id: string;
    tool_name: string;
    args: JsonObject;
    description: string;
    allowed_decisions: ApprovalDecision[];
    integration_id?: string;
    operation?: string;
    args_schema?: JsonSchema | null;
  } & ToolWording
>;
export type TokenFrame = FrameBase<"token", { token_index: number; message_id: string }>;
export type FinalFrame = FrameBase<
  "final",
  {
    session_id: string;
    message_id: string;
    tokens_used: number;
    finish_reason: FinishReason;
    usage?: JsonObject;
  }
>;
export type ErrorFrame = FrameBase<"error", { code: string }>;
export type PongFrame = FrameBase<"pong", JsonObject>;

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

export const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set<ServerFrame["type"]>([
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

export type ClientFrame =
  | { type: "message"; message: string; metadata?: JsonObject }
  | { type: "cancel" }
  | { type: "regenerate" }
  | { type: "edit"; message_id: string; message: string }
  | { type: "approval"; tool_call_id: string; decision: ApprovalDecision; args?: JsonObject; reason?: string }
  | { type: "resume"; after_seq: number }
  | { type: "ping" }
  | { type: "auth"; token: string };

/** WebSocket close codes the server uses. */
export const CloseCode = {
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  slowConsumer: 1013,
} as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validate an incoming frame's envelope; anything malformed is dropped, never trusted. */
export function parseServerFrame(raw: string): ServerFrame | null {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
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

// ------------------------------------------------------------------ integrations

export type Visibility = "private" | "shared";

export interface IntegrationTypeInfo {
  name: string;
  description: string;
  config_schema: JsonSchema;
  credentials_schema: JsonSchema;
}

export interface Integration {
  id: string;
  name: string;
  integration_type: string;
  visibility: Visibility;
  owner_id: string | null;
  status: string;
  is_active?: boolean;
  description?: string | null;
  config: JsonObject;
  has_credentials: boolean;
  created_at: string;
  updated_at: string;
  last_sync: string | null;
  last_test: JsonObject | null;
  health?: IntegrationHealth;
}

/** Live health from real calls and tests. */
export interface IntegrationHealth {
  status: string;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_error: string | null;
  calls_1h: number;
  failures_1h: number;
  error_rate_1h: number | null;
}

export interface TestStep {
  name: string;
  ok: boolean;
  latency_ms: number | null;
  detail: string;
  remediation?: string | null;
}

export interface TestResult {
  ok: boolean;
  latency_ms: number;
  steps: TestStep[];
  details: JsonObject;
  error?: string | null;
  error_code?: string | null;
}

export type PolicyDecision = "allow" | "ask" | "deny";

export interface IntegrationTool {
  name: string;
  operation: string;
  description: string;
  access: string;
  phi: boolean;
  default_decision: PolicyDecision;
  effective_decision: PolicyDecision;
}

/** The subset of JSON Schema that pydantic v2 produces for our config and credentials models. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: JsonValue;
  enum?: JsonValue[];
  const?: JsonValue;
  format?: string;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

// ------------------------------------------------------------------ admin, audit, HL7

export interface AuditEvent {
  id: string;
  created_at: string;
  actor_id: string | null;
  actor: string | null;
  action: string;
  outcome: string;
  integration_id: string | null;
  patient_id: string | null;
  session_id: string | null;
  resource_types: string[];
  details: JsonObject;
  request_id: string | null;
}

export interface Hl7MessageSummary {
  message_id: string;
  direction: string;
  status: string;
  timestamp: string;
  processing_time_ms: number | null;
  control_id: string | null;
  message_type: string | null;
  trigger_event?: string | null;
  patient_id?: string | null;
  source?: string | null;
}

export interface Hl7Destination {
  system: string;
  integration_id?: string | null;
  status: string;
  timestamp: string;
  ack_code?: string | null;
  attempts: number;
  error?: string | null;
  latency_ms?: number | null;
}

export interface Hl7Message extends Hl7MessageSummary {
  version?: string | null;
  raw?: string;
  ack?: string | null;
  ack_code?: string | null;
  error?: string | null;
  problems?: JsonObject[];
  destinations: Hl7Destination[];
}

/** The facts `POST /hl7/explain` reads from MSH and PID (any may be missing). */
export interface Hl7Summary {
  message_type?: string | null;
  trigger_event?: string | null;
  version?: string | null;
  control_id?: string | null;
  sending_application?: string | null;
  sending_facility?: string | null;
  receiving_application?: string | null;
  receiving_facility?: string | null;
  timestamp?: string | null;
  patient_id?: string | null;
  patient_name?: string | null;
  segments?: string[];
}

export interface Hl7Problem {
  severity: string;
  location: string;
  message: string;
}

export interface Hl7Explanation {
  /** Field positions arrive as "PID-3" (older servers sent the bare number). */
  segments: { name: string; description: string; fields: { position: number | string; name: string; value: string }[] }[];
  summary: Hl7Summary | null;
  problems: Hl7Problem[];
  valid?: boolean;
}
