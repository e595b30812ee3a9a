/** Pure geometry for the admin charts (hand-rolled SVG: a chart library would cost more than the
 * whole admin screen). Unit-tested; the components only draw what these return. */

export interface ActivityPoint {
  t: string;
  turns: number;
  errors: number;
  tools_completed: number;
  tools_failed: number;
  p95_first_token_ms: number | null;
}

export interface ActivitySeries {
  window: "1h" | "24h";
  step_s: number;
  points: ActivityPoint[];
  approvals_by_decision: Record<string, number>;
  totals: { turns: number; errors: number; tools_completed: number; tools_failed: number; p95_first_token_ms: number | null };
}

/** A "nice" axis maximum at or above `value` (1, 2, 5 × 10^n), never 0. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

export interface Bar {
  x: number;
  width: number;
  /** Stacked segments, bottom first: y and height in chart units. */
  segments: Array<{ y: number; height: number; key: string; value: number }>;
}

/** Stacked bars for `keys` of each point, in a `width` × `height` box. */
export function stackedBars<T>(points: T[], keys: Array<keyof T & string>, width: number, height: number, max: number): Bar[] {
  if (!points.length) return [];
  const slot = width / points.length;
  const barWidth = Math.max(1, slot * 0.7);
  return points.map((point, index) => {
    let base = height;
    const segments = keys.map((key) => {
      const value = Number(point[key]) || 0;
      const h = (value / max) * height;
      base -= h;
      return { y: base, height: h, key, value };
    });
    return { x: index * slot + (slot - barWidth) / 2, width: barWidth, segments };
  });
}

/** An SVG path through the points that have a value (gaps where they do not). */
export function linePath(values: Array<number | null>, width: number, height: number, max: number): string {
  if (!values.length) return "";
  const slot = width / values.length;
  let path = "";
  let drawing = false;
  values.forEach((value, index) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = index * slot + slot / 2;
    const y = height - (value / max) * height;
    path += `${drawing ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    drawing = true;
  });
  return path;
}

/** "14:05" for a point's time (local clock), for axis labels. */
export function clockLabel(iso: string): string {
  const date = new Date(iso);
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}
