import { useState } from "react";
import type { ApprovalCard as ApprovalData } from "../../lib/reducer";
import type { ApprovalDecision, JsonObject } from "../../lib/protocol";
import { JsonBlock } from "../ui/Feedback";

interface Props {
  approval: ApprovalData;
  onAnswer: (decision: ApprovalDecision, extra: { args?: JsonObject; reason?: string }) => void;
}

/** Parse edited arguments: they must be a JSON object. */
export function parseArgs(text: string): { args: JsonObject } | { error: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "Arguments must be a JSON object." };
    return { args: value as JsonObject };
  } catch (error) {
    return { error: `Invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Asks the user to approve, edit or reject a tool call the policy holds for a person. */
export function ApprovalCard({ approval, onAnswer }: Props) {
  const [mode, setMode] = useState<"idle" | "edit" | "reject">("idle");
  const [argsText, setArgsText] = useState(() => JSON.stringify(approval.args, null, 2));
  const [reason, setReason] = useState("");
  const [sent, setSent] = useState(false);
  const parsed = mode === "edit" ? parseArgs(argsText) : null;
  const allowed = new Set(approval.allowedDecisions);
  const pending = approval.status === "pending" && !sent;

  const answer = (decision: ApprovalDecision, extra: { args?: JsonObject; reason?: string } = {}) => {
    setSent(true);
    onAnswer(decision, extra);
  };

  return (
    <section className="approval-card" data-testid="approval-card" data-status={approval.status} aria-label={`Approval for ${approval.toolName}`}>
      <header>
        <strong>{approval.status === "pending" ? "Approval needed:" : "Approval:"}</strong> <code>{approval.toolName}</code>
      </header>
      {approval.description ? <p>{approval.description}</p> : null}
      {mode === "edit" && pending ? (
        <div className="field">
          <label htmlFor={`args-${approval.toolCallId}`}>Arguments (JSON)</label>
          <textarea
            id={`args-${approval.toolCallId}`}
            className="mono"
            rows={8}
            value={argsText}
            onChange={(event) => setArgsText(event.target.value)}
            aria-invalid={parsed !== null && "error" in parsed}
            data-testid="approval-args"
          />
          {parsed && "error" in parsed ? (
            <p className="error" role="alert">
              {parsed.error}
            </p>
          ) : null}
        </div>
      ) : (
        <JsonBlock value={approval.args} label="Proposed arguments" />
      )}
      {mode === "reject" && pending ? (
        <div className="field">
          <label htmlFor={`reason-${approval.toolCallId}`}>Reason for rejecting</label>
          <input id={`reason-${approval.toolCallId}`} value={reason} onChange={(event) => setReason(event.target.value)} data-testid="approval-reason" />
        </div>
      ) : null}
      {pending ? (
        <div className="row">
          {mode === "idle" ? (
            <>
              {allowed.has("approve") ? (
                <button type="button" className="primary" onClick={() => answer("approve")} data-testid="approval-approve">
                  Approve
                </button>
              ) : null}
              {allowed.has("edit") ? (
                <button type="button" onClick={() => setMode("edit")} data-testid="approval-edit">
                  Edit arguments
                </button>
              ) : null}
              {allowed.has("reject") ? (
                <button type="button" className="danger" onClick={() => setMode("reject")} data-testid="approval-reject">
                  Reject
                </button>
              ) : null}
            </>
          ) : mode === "edit" ? (
            <>
              <button
                type="button"
                className="primary"
                disabled={!parsed || "error" in parsed}
                onClick={() => parsed && "args" in parsed && answer("edit", { args: parsed.args })}
                data-testid="approval-submit-edit"
              >
                Run with these arguments
              </button>
              <button type="button" onClick={() => setMode("idle")}>
                Back
              </button>
            </>
          ) : (
            <>
              <button type="button" className="danger" onClick={() => answer("reject", reason.trim() ? { reason: reason.trim() } : {})} data-testid="approval-confirm-reject">
                Reject call
              </button>
              <button type="button" onClick={() => setMode("idle")}>
                Back
              </button>
            </>
          )}
        </div>
      ) : (
        <p className="muted small" data-testid="approval-outcome">
          {approval.status === "pending" ? (
            <>
              Answer sent…{" "}
              {/* The server may refuse an edit (invalid_edit) and keep the call pending. */}
              <button type="button" className="link" onClick={() => setSent(false)}>
                Answer again
              </button>
            </>
          ) : (
            `Decision: ${approval.decision ?? "made"}`
          )}
        </p>
      )}
    </section>
  );
}
