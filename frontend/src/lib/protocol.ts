/**
 * The backend contract as the app sees it (docs/protocol.md, docs/api.md): the stream frames from the
 * client package (generated), and the REST bodies the screens use.
 */

import type { components } from "@switchboard/client";

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
  /** pending: registered under REGISTRATION=approval, waiting for an admin (every other call is 403). */
  approval_status?: "approved" | "pending" | "rejected";
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

// The stream frames are generated from the backend's pydantic definitions and come with the
// client package (one typed protocol for the SPA, the TypeScript and the Python clients).
export {
  CloseCode,
  parseServerFrame,
  SERVER_FRAME_TYPES,
  type AgentEventFrame,
  type ApprovalRequiredFrame,
  type ClientFrame,
  type ConnectionEstablishedFrame,
  type ErrorFrame,
  type FinalFrame,
  type FinishReason,
  type PongFrame,
  type ServerFrame,
  type TokenFrame,
  type ToolCallFrame,
  type ToolResultFrame,
} from "@switchboard/client";
export type ApprovalDecision = "approve" | "reject" | "edit";

/** How the server words a tool (from the tool's metadata): "Demo Jira · my open issues". The same
 * optional fields are declared on the generated frame metadata (backend/protocol/frames.py). */
export interface ToolWording {
  tool_label?: string | null;
  integration_name?: string | null;
  integration_type?: string | null;
  risk?: ToolRisk | null;
  summary?: string | null;
}
export type ToolRisk = "read" | "write" | "destructive" | "patient_data";
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

// ------------------------------------------------------------------ HL7 engine (channels, queues, traffic)
// From the server's pydantic schemas through the client package's generated OpenAPI types.

type Schemas = components["schemas"];

export type Hl7Channel = Schemas["ChannelOut"];
export type Hl7ChannelInput = Schemas["ChannelIn"];
export type Hl7ChannelFilter = Schemas["ChannelFilter"];
export type Hl7TransformStep = Schemas["TransformStep"];
export type Hl7Queue = Schemas["QueueOut"];
export type Hl7QueueHead = Schemas["QueueHead"];
export type Hl7TrafficStats = Schemas["TrafficStats"];
export type Hl7MinuteStats = Schemas["MinuteStats"];
