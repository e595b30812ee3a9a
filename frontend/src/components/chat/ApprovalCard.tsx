import { useMemo, useState } from "react";
import type { ApprovalCard as ApprovalData } from "../../lib/reducer";
import type { ApprovalDecision, JsonObject, JsonValue, ToolRisk } from "../../lib/protocol";
import { fieldsFromSchema, initialValues, payloadFromValues, type FormField, type FormValues } from "../../lib/schemaForm";
import { JsonBlock } from "../ui/Feedback";
import { SchemaFields } from "../integrations/SchemaFields";
import { ToolLabel } from "./ToolLabel";

interface Props {
  approval: ApprovalData;
  onAnswer: (decision: ApprovalDecision, extra: { args?: JsonObject; reason?: string }) => void;
}

/** Parse edited arguments: they must be a JSON object (tools without a schema). */
export function parseArgs(text: string): { args: JsonObject } | { error: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "Arguments must be a JSON object." };
    return { args: value as JsonObject };
  } catch (error) {
    return { error: `Invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const RISK_TEXT: Record<ToolRisk, string> = {
  read: "Reads only",
  write: "Changes data",
  destructive: "Destructive",
  patient_data: "Patient data",
};

function shownValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null || value === "") return "—";
  if (Array.isArray(value)) return value.map((item) => (typeof item === "object" ? JSON.stringify(item) : String(item))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The proposed arguments as labelled values (the schema's labels), in the schema's order. */
function ArgumentList({ fields, args }: { fields: FormField[]; args: JsonObject }) {
  const known = new Set(fields.map((field) => field.name));
  const rows: Array<[string, string, JsonValue | undefined]> = [
    ...fields.filter((field) => args[field.name] !== undefined).map((field): [string, string, JsonValue | undefined] => [field.name, field.label, args[field.name]]),
    ...Object.keys(args)
      .filter((name) => !known.has(name))
      .map((name): [string, string, JsonValue | undefined] => [name, name, args[name]]),
  ];
  return (
    <dl className="approval-args" aria-label="Proposed arguments">
      {rows.map(([name, label, value]) => (
        <div key={name}>
          <dt>{label}</dt>
          <dd className={typeof value === "string" && value.includes("\n") ? "mono pre" : undefined}>{shownValue(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Asks the user to approve, edit or reject a tool call, in plain words first, the details after. */
export function ApprovalCard({ approval, onAnswer }: Props) {
  const [mode, setMode] = useState<"idle" | "edit" | "reject">("idle");
  const fields = useMemo(() => (approval.argsSchema ? fieldsFromSchema(approval.argsSchema) : null), [approval.argsSchema]);
  const [values, setValues] = useState<FormValues>(() => (fields ? initialValues(fields, approval.args) : {}));
  const [argsText, setArgsText] = useState(() => JSON.stringify(approval.args, null, 2));
  const [reason, setReason] = useState("");
  const [sent, setSent] = useState(false);
  const allowed = new Set(approval.allowedDecisions);
  const pending = approval.status === "pending" && !sent;
  const idPrefix = `approval-${approval.toolCallId}`;

  const edited = useMemo(() => {
    if (mode !== "edit") return null;
    if (fields) {
      const result = payloadFromValues(fields, values, false);
      return Object.keys(result.errors).length ? { errors: result.errors } : { args: result.value };
    }
    const parsed = parseArgs(argsText);
    return "error" in parsed ? { errors: { json: parsed.error } } : parsed;
  }, [mode, fields, values, argsText]);

  const answer = (decision: ApprovalDecision, extra: { args?: JsonObject; reason?: string } = {}) => {
    setSent(true);
    onAnswer(decision, extra);
  };

  const risk = approval.risk && approval.risk !== "read" ? approval.risk : null;
  return (
    <section className="approval-card" data-testid="approval-card" data-status={approval.status} aria-label={`Approval: ${approval.summary}`}>
      <header className="approval-head">
        <strong>{approval.status === "pending" ? "Approval needed" : "Approval"}</strong>
        {risk ? (
          <span className={`badge risk risk-${risk}`} data-testid="approval-risk">
            {RISK_TEXT[risk]}
          </span>
        ) : null}
      </header>
      <p className="approval-summary" data-testid="approval-summary">
        {approval.summary}
      </p>
      <p className="muted small approval-where">
        {approval.integrationName ? (
          <>
            On <strong data-testid="approval-target">{approval.integrationName}</strong>
          </>
        ) : (
          <ToolLabel label={approval.label} toolName={approval.toolName} integrationType={approval.integrationType} />
        )}
      </p>
      <details className="small muted">
        <summary>Technical details</summary>
        <p>
          <ToolLabel label={approval.label} toolName={approval.toolName} integrationType={approval.integrationType} /> — tool{" "}
          <code>{approval.toolName}</code>
        </p>
        {approval.description ? <p>{approval.description}</p> : null}
      </details>
      {mode === "edit" && pending ? (
        fields ? (
          <fieldset className="approval-form" data-testid="approval-form">
            <legend>Change the arguments</legend>
            <SchemaFields
              idPrefix={idPrefix}
              fields={fields}
              values={values}
              errors={edited && "errors" in edited ? edited.errors : {}}
              editing={false}
              onChange={(name, value) => setValues((current) => ({ ...current, [name]: value }))}
            />
          </fieldset>
        ) : (
          <div className="field">
            <label htmlFor={`${idPrefix}-json`}>Arguments (JSON)</label>
            <textarea
              id={`${idPrefix}-json`}
              className="mono"
              rows={8}
              value={argsText}
              onChange={(event) => setArgsText(event.target.value)}
              aria-invalid={edited !== null && "errors" in edited}
              data-testid="approval-args"
            />
            {edited && "errors" in edited ? (
              <p className="error" role="alert">
                {edited.errors.json}
              </p>
            ) : null}
          </div>
        )
      ) : fields ? (
        <ArgumentList fields={fields} args={approval.args} />
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
                disabled={!edited || "errors" in edited}
                onClick={() => edited && "args" in edited && answer("edit", { args: edited.args })}
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
