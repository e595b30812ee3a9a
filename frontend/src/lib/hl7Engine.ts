/** The HL7 engine's admin views as numbers and words (pure, unit-tested): the traffic chart's points
 * from GET /hl7/stats, and a FIFO queue's state and ages from GET /hl7/queues. */

import type { Hl7Queue, Hl7TrafficStats } from "./protocol";

/** One minute of traffic: messages received, and the destinations' outcomes by ACK code. */
export interface TrafficPoint {
  t: string;
  received: number;
  AA: number;
  AE: number;
  AR: number;
  /** No ACK at all (a timeout, a refused connection). */
  none: number;
}

export const ACK_KEYS = ["AA", "AE", "AR", "none"] as const;
export type AckKey = (typeof ACK_KEYS)[number];

/** Enhanced-mode ACKs (CA/CE/CR) count with their original-mode twins. */
function ackKey(code: string): AckKey {
  const upper = code.toUpperCase();
  if (upper === "AA" || upper === "CA") return "AA";
  if (upper === "AE" || upper === "CE") return "AE";
  if (upper === "AR" || upper === "CR") return "AR";
  return "none";
}

export function trafficPoints(stats: Hl7TrafficStats): TrafficPoint[] {
  return stats.minutes.map((minute) => {
    const point: TrafficPoint = { t: minute.minute, received: minute.received, AA: 0, AE: 0, AR: 0, none: 0 };
    for (const [code, count] of Object.entries(minute.acks)) point[ackKey(code)] += Number(count) || 0;
    return point;
  });
}

export function trafficTotals(points: TrafficPoint[]): Omit<TrafficPoint, "t"> {
  const totals = { received: 0, AA: 0, AE: 0, AR: 0, none: 0 };
  for (const point of points) {
    totals.received += point.received;
    for (const key of ACK_KEYS) totals[key] += point[key];
  }
  return totals;
}

/** The chart's one-line summary (also its accessible description). */
export function trafficSummary(points: TrafficPoint[]): string {
  const totals = trafficTotals(points);
  const acks = ACK_KEYS.filter((key) => totals[key] > 0).map((key) => `${totals[key]} ${key === "none" ? "without ACK" : key}`);
  const peak = Math.max(0, ...points.map((point) => point.received));
  return `${totals.received} received (peak ${peak}/min); outcomes: ${acks.length ? acks.join(", ") : "none yet"}`;
}

/** "—", "8 s", "4 min", "2 h 5 min", "3 d": how long the oldest message has waited. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export type QueueState = "paused" | "blocked" | "sending" | "draining" | "empty";

/** One word for a queue, as its badge shows it. */
export function queueState(queue: Hl7Queue): QueueState {
  if (queue.paused) return "paused";
  if (queue.blocked) return "blocked";
  if (!queue.head) return "empty";
  return queue.head.status === "sent" ? "sending" : "draining";
}

export function queueTone(state: QueueState): "ok" | "bad" | "warn" | "neutral" {
  if (state === "blocked") return "bad";
  if (state === "paused") return "warn";
  if (state === "empty") return "neutral";
  return "ok";
}

/** Which admin actions make sense now (the server still decides: 409 queue_empty / head_in_flight). */
export function queueActions(queue: Hl7Queue): { retry: boolean; skip: boolean; pause: boolean; resume: boolean } {
  const head = queue.head;
  return {
    retry: Boolean(head) && !queue.paused && head?.status !== "sent",
    // A head on the wire can be skipped only once the queue is paused.
    skip: Boolean(head) && (head?.status !== "sent" || queue.paused),
    pause: !queue.paused,
    resume: queue.paused,
  };
}

/** Stuck queues first (blocked, then paused), then the deepest, then by name: the one to look at on top. */
export function sortQueues(queues: Hl7Queue[]): Hl7Queue[] {
  const rank = (queue: Hl7Queue) => (queue.blocked && !queue.paused ? 0 : queue.paused ? 1 : 2);
  return [...queues].sort(
    (a, b) => rank(a) - rank(b) || b.depth - a.depth || (a.destination ?? "").localeCompare(b.destination ?? ""),
  );
}

/** The first line of an ACK's MSA segment ("MSA|AE|Q01|Unknown patient"), for "why is it stuck". */
export function ackLine(ack: string | null | undefined): string | null {
  if (!ack) return null;
  const msa = ack.split(/\r\n?|\n/).find((segment) => segment.startsWith("MSA"));
  return msa ?? null;
}
