import type { TestResult } from "../../lib/protocol";
import { Badge, JsonBlock } from "../ui/Feedback";

function ms(value: number | null | undefined): string {
  return typeof value === "number" ? `${Math.round(value)} ms` : "—";
}

/** The steps of a connection test in order, each with its result, latency and what to fix. */
export function TestResultView({ result }: { result: TestResult }) {
  return (
    <section className="test-result" data-testid="test-result" data-ok={result.ok} aria-label="Connection test result">
      <p>
        <Badge tone={result.ok ? "ok" : "bad"}>{result.ok ? "Connection OK" : "Connection failed"}</Badge> in {ms(result.latency_ms)}
      </p>
      {result.error ? (
        <p className="error" role="alert">
          {result.error}
        </p>
      ) : null}
      <ol className="steps">
        {result.steps.map((step, index) => (
          <li key={`${step.name}-${index}`} className={step.ok ? "step-ok" : "step-failed"} data-testid="test-step" data-ok={step.ok}>
            <span aria-hidden="true">{step.ok ? "✔" : "✘"}</span> <strong>{step.name}</strong> <span className="muted">({ms(step.latency_ms)})</span>
            {step.detail ? <div>{step.detail}</div> : null}
            {!step.ok && step.remediation ? (
              <div className="remediation">
                <strong>How to fix:</strong> {step.remediation}
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      {Object.keys(result.details ?? {}).length ? (
        <details>
          <summary>Details</summary>
          <JsonBlock value={result.details} />
        </details>
      ) : null}
    </section>
  );
}
