import { clockLabel, linePath, niceMax, stackedBars } from "../../lib/charts";

const W = 600;
const H = 140;

export interface ChartSeries<T> {
  key: keyof T & string;
  name: string;
  tone: string;
}

function valueOf<T>(point: T, key: keyof T & string): number | null {
  const value = point[key];
  return typeof value === "number" ? value : null;
}

/** A line with a dot per value, over the same slots as the bars. */
function Line<T extends { t: string }>({ points, series, max, unit, zeroDots = true }: { points: T[]; series: ChartSeries<T>; max: number; unit: string; zeroDots?: boolean }) {
  const values = points.map((point) => valueOf(point, series.key));
  const slot = W / Math.max(1, points.length);
  return (
    <>
      <path d={linePath(values, W, H, max)} className={`chart-line tone-${series.tone}`} data-testid="chart-line" />
      {points.map((point, index) => {
        const value = values[index];
        if (value === null || value === undefined || (!zeroDots && value === 0)) return null;
        return (
          <circle key={point.t} cx={index * slot + slot / 2} cy={H - (value / max) * H} r="3" className={`chart-dot tone-${series.tone}`} data-testid="chart-dot">
            <title>{`${clockLabel(point.t)} ${series.name}: ${value}${unit}`}</title>
          </circle>
        );
      })}
    </>
  );
}

/** One chart over time: stacked bars of `series` (or, with `line`, a line of the first one), an
 * optional `overlay` line on the same scale, a y maximum, first/last time labels and a legend. */
export function TimeChart<T extends { t: string }>({
  title,
  points,
  series,
  overlay,
  line = false,
  unit = "",
  summary,
  testId = "activity-chart",
}: {
  title: string;
  points: T[];
  series: ChartSeries<T>[];
  overlay?: ChartSeries<T>;
  line?: boolean;
  unit?: string;
  summary: string;
  testId?: string;
}) {
  const totals = points.map((point) => series.reduce((sum, s) => sum + (valueOf(point, s.key) ?? 0), 0));
  const overlaid = overlay ? points.map((point) => valueOf(point, overlay.key) ?? 0) : [];
  const max = niceMax(Math.max(0, ...totals, ...overlaid));
  const first = points[0];
  const last = points[points.length - 1];
  const legend = overlay ? [...series, overlay] : series;
  return (
    <figure className="card chart" data-testid={testId} aria-label={title}>
      <figcaption>
        <h3>{title}</h3>
        <p className="muted small">{summary}</p>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H + 18}`} role="img" aria-label={`${title}: ${summary}`} preserveAspectRatio="none">
        <line x1="0" y1={H} x2={W} y2={H} className="chart-axis" />
        <line x1="0" y1="0" x2={W} y2="0" className="chart-grid" />
        {line && series[0] ? (
          <Line points={points} series={series[0]} max={max} unit={unit} />
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
                  data-series={segment.key}
                >
                  <title>{`${clockLabel(points[index]!.t)} ${series[k]!.name}: ${segment.value}`}</title>
                </rect>
              ) : null,
            ),
          )
        )}
        {overlay ? <Line points={points} series={overlay} max={max} unit={unit} zeroDots={false} /> : null}
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
        {legend.map((s) => (
          <li key={s.key}>
            <span className={`swatch tone-${s.tone}`} aria-hidden="true" /> {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}
