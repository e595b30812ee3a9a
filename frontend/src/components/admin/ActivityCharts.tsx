import { useState } from "react";
import { useGet } from "../../lib/useApi";
import { clockLabel, linePath, niceMax, stackedBars, type ActivityPoint, type ActivitySeries } from "../../lib/charts";
import { ErrorMessage, Spinner } from "../ui/Feedback";

const W = 600;
const H = 140;

interface Series {
  key: keyof ActivityPoint & string;
  name: string;
  tone: string;
}

/** One chart: stacked bars (or a line) over time, with a y maximum, first/last time labels and a legend. */
function TimeChart({
  title,
  points,
  series,
  line = false,
  unit = "",
  summary,
}: {
  title: string;
  points: ActivityPoint[];
  series: Series[];
  line?: boolean;
  unit?: string;
  summary: string;
}) {
  const totals = points.map((point) => series.reduce((sum, s) => sum + (Number(point[s.key]) || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const first = points[0];
  const last = points[points.length - 1];
  return (
    <figure className="card chart" data-testid="activity-chart" aria-label={title}>
      <figcaption>
        <h3>{title}</h3>
        <p className="muted small">{summary}</p>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H + 18}`} role="img" aria-label={`${title}: ${summary}`} preserveAspectRatio="none">
        <line x1="0" y1={H} x2={W} y2={H} className="chart-axis" />
        <line x1="0" y1="0" x2={W} y2="0" className="chart-grid" />
        {line ? (
          <>
            <path
              d={linePath(points.map((point) => point[series[0]!.key] as number | null), W, H, max)}
              className={`chart-line tone-${series[0]!.tone}`}
              data-testid="chart-line"
            />
            {points.map((point, index) => {
              const value = point[series[0]!.key] as number | null;
              if (value === null) return null;
              const slot = W / points.length;
              return (
                <circle key={point.t} cx={index * slot + slot / 2} cy={H - (value / max) * H} r="3" className="chart-dot" data-testid="chart-dot">
                  <title>{`${clockLabel(point.t)}: ${value} ms`}</title>
                </circle>
              );
            })}
          </>
        ) : (
          stackedBars(points, series.map((s) => s.key), W, H, max).map((bar, index) =>
            bar.segments.map((segment, k) =>
              segment.height > 0 ? (
                <rect
                  key={`${index}-${segment.key}`}
                  x={bar.x}
                  y={segment.y}
                  width={bar.width}
                  height={segment.height}
                  className={`chart-bar tone-${series[k]!.tone}`}
                  data-testid="chart-bar"
                >
                  <title>{`${clockLabel(points[index]!.t)} ${series[k]!.name}: ${segment.value}`}</title>
                </rect>
              ) : null,
            ),
          )
        )}
        <text x="2" y="12" className="chart-label">
          {max}
          {unit}
        </text>
        {first ? (
          <text x="2" y={H + 15} className="chart-label">
            {clockLabel(first.t)}
          </text>
        ) : null}
        {last ? (
          <text x={W - 2} y={H + 15} className="chart-label" textAnchor="end">
            {clockLabel(last.t)}
          </text>
        ) : null}
      </svg>
      <ul className="legend small">
        {series.map((s) => (
          <li key={s.key}>
            <span className={`swatch tone-${s.tone}`} aria-hidden="true" /> {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}

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
