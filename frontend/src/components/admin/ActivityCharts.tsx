import { useState } from "react";
import { useGet } from "../../lib/useApi";
import type { ActivitySeries } from "../../lib/charts";
import { TimeChart } from "./TimeChart";
import { ErrorMessage, Spinner } from "../ui/Feedback";

/** Approvals by decision as labelled horizontal bars. */
function DecisionBars({ counts }: { counts: Record<string, number> }) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, value]) => value));
  return (
    <figure className="card chart" data-testid="approvals-chart" aria-label="Approvals by decision">
      <figcaption>
        <h3>Approvals by decision</h3>
      </figcaption>
      {entries.length ? (
        <ul className="hbars">
          {entries.map(([decision, value]) => (
            <li key={decision}>
              <span className="hbar-label">{decision}</span>
              <span className="hbar-track">
                <span className={`hbar tone-${decision === "approve" || decision === "allow" || decision === "edit" ? "ok" : "bad"}`} style={{ width: `${(value / max) * 100}%` }} />
              </span>
              <span className="hbar-value">{value}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No approvals in this window.</p>
      )}
    </figure>
  );
}

/** The overview's charts over the last hour or the last 24 hours, from the server's activity store. */
export function ActivityCharts() {
  const [span, setSpan] = useState<"1h" | "24h">("1h");
  const { data, error, loading, reload } = useGet<ActivitySeries>("/admin/overview/activity", { window: span });
  const per = span === "1h" ? "per minute" : "per 15 minutes";
  return (
    <section className="activity" aria-label="Activity over time" data-testid="activity">
      <div className="row">
        <h2 className="grow">Activity</h2>
        <div role="radiogroup" aria-label="Time window" className="segmented">
          {(["1h", "24h"] as const).map((option) => (
            <button key={option} type="button" role="radio" aria-checked={span === option} onClick={() => setSpan(option)}>
              {option === "1h" ? "Last hour" : "Last 24 h"}
            </button>
          ))}
        </div>
        <button type="button" onClick={reload} aria-label="Refresh charts">
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      {loading && !data ? <Spinner label="Loading charts" /> : null}
      {data ? (
        <div className="chart-grid-layout">
          <TimeChart
            title={`Chat turns and errors ${per}`}
            points={data.points}
            series={[
              { key: "turns", name: "turns", tone: "accent" },
              { key: "errors", name: "errors", tone: "bad" },
            ]}
            summary={`${data.totals.turns} turns, ${data.totals.errors} errors`}
          />
          <TimeChart
            title="Tool calls by outcome"
            points={data.points}
            series={[
              { key: "tools_completed", name: "completed", tone: "ok" },
              { key: "tools_failed", name: "failed", tone: "bad" },
            ]}
            summary={`${data.totals.tools_completed} completed, ${data.totals.tools_failed} failed`}
          />
          <DecisionBars counts={data.approvals_by_decision} />
          <TimeChart
            title="p95 time to first token"
            points={data.points}
            series={[{ key: "p95_first_token_ms", name: "p95 first token (ms)", tone: "accent" }]}
            line
            unit=" ms"
            summary={data.totals.p95_first_token_ms === null ? "No answers yet" : `${data.totals.p95_first_token_ms} ms over the window`}
          />
        </div>
      ) : null}
    </section>
  );
}
