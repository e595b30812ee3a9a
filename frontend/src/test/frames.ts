/** Builders for server frames in tests, mirroring what the backend sends. */

import type { JsonObject, ServerFrame } from "../lib/protocol";

let clock = 0;

/** A frame of the given type with an explicit seq and run. */
export function frame(type: ServerFrame["type"], seq: number, runId: string, content = "", metadata: JsonObject = {}): ServerFrame {
  clock += 1;
  return {
    type,
    seq,
    run_id: runId,
    content,
    metadata,
    timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, clock)).toISOString(),
  } as ServerFrame;
}

export const token = (seq: number, runId: string, text: string, index = 0): ServerFrame =>
  frame("token", seq, runId, text, { token_index: index, message_id: `m-${runId}` });

export const final = (seq: number, runId: string, text: string, finish = "stop"): ServerFrame =>
  frame("final", seq, runId, text, { session_id: "s1", message_id: `m-${runId}`, tokens_used: 7, finish_reason: finish });

export const toolCall = (seq: number, runId: string, id: string, args: JsonObject = {}): ServerFrame =>
  frame("tool_call", seq, runId, "", { tool_name: "jira_search", tool_call_id: id, args, status: "started" });

export const toolResult = (seq: number, runId: string, id: string, status = "completed", result: JsonObject | string = "ok"): ServerFrame =>
  frame("tool_result", seq, runId, "", { tool_name: "jira_search", tool_call_id: id, status, result });

export const approvalRequired = (seq: number, runId: string, id: string): ServerFrame =>
  frame("approval_required", seq, runId, "", {
    tool_call_id: id,
    tool_name: "jira_create_issue",
    args: { summary: "Broken login" },
    description: "Create a Jira issue",
    allowed_decisions: ["approve", "edit", "reject"],
  });
