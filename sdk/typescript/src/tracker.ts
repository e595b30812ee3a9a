/**
 * Transport-independent state of a chat stream (the same rules as the Python client's
 * `TurnTracker`): which frames are duplicates, and whether anything is still to be waited for.
 * An iteration ends when no turn is running, nothing the client sent is unanswered and no probe is
 * outstanding — after `final`, and after `approval_required` unless a decision was already sent.
 */

import { StreamError } from "./errors.js";
import type { ApprovalRequiredFrame, Decision, FinalFrame, ServerFrame } from "./protocol.js";

export class TurnTracker {
  lastSeq = 0;
  readonly openRuns = new Set<string>();
  /** A message or decision was sent and its turn has not shown up yet. */
  expecting = false;
  /** A ping was sent to learn when a replay is complete. */
  probing = false;
  needsStatusCheck = false;
  pendingApproval: ApprovalRequiredFrame | null = null;
  final: FinalFrame | null = null;

  get idle(): boolean {
    return this.openRuns.size === 0 && !this.expecting && !this.probing && !this.needsStatusCheck;
  }

  /** A frame already delivered (a live frame that a replay also carried). */
  isDuplicate(frame: ServerFrame): boolean {
    return Boolean(frame.run_id) && frame.seq <= this.lastSeq;
  }

  /** Take one frame into account; false for a probe's own pong (not shown to the caller). */
  observe(frame: ServerFrame): boolean {
    // Only turn frames count: a connection's own frames (connection_established, pong) take a
    // number too, and a replay that follows them carries lower ones that must not be dropped.
    if (frame.run_id) this.lastSeq = Math.max(this.lastSeq, frame.seq);
    if (frame.type === "pong" && this.probing) {
      this.probing = false;
      this.needsStatusCheck = this.openRuns.size === 0 && !this.expecting;
      return false;
    }
    if (!frame.run_id) {
      if (frame.type === "error" && this.openRuns.size === 0) this.expecting = false; // refused: nothing runs
      return true;
    }
    if (frame.type === "final") {
      this.openRuns.delete(frame.run_id);
      this.final = frame;
      this.pendingApproval = null;
    } else if (frame.type === "approval_required") {
      this.openRuns.delete(frame.run_id); // paused until a decision arrives
      this.pendingApproval = frame;
    } else {
      this.openRuns.add(frame.run_id);
    }
    this.expecting = false;
    return true;
  }

  /** After a probe: a turn running with no frames seen yet is still to be followed. */
  statusChecked(sessionStatus: string): void {
    this.needsStatusCheck = false;
    if (sessionStatus === "running") this.expecting = true;
  }

  sentTurn(): void {
    this.expecting = true;
    this.final = null;
  }

  /** The `approval` frame answering `toolCallId` (default: the pending one). */
  approvalFrame(
    decision: Decision,
    toolCallId: string | undefined,
    args?: Record<string, unknown>,
    reason?: string,
  ): Record<string, unknown> {
    const pending = this.pendingApproval;
    const id = toolCallId ?? pending?.metadata.tool_call_id;
    if (!id) throw new StreamError("No approval is pending in this stream; pass the tool call id", { code: "no_pending_approval" });
    if (pending && pending.metadata.tool_call_id === id && !pending.metadata.allowed_decisions.includes(decision)) {
      throw new StreamError(`'${decision}' is not allowed for this tool call`, { code: "decision_not_allowed" });
    }
    const frame: Record<string, unknown> = { type: "approval", tool_call_id: id, decision };
    if (args !== undefined) frame.args = args;
    if (reason !== undefined) frame.reason = reason;
    return frame;
  }
}
