/** Presenting an explained HL7 v2 message: the summary's facts and field positions. */

import type { Hl7Problem, Hl7Summary } from "./protocol";

export interface Fact {
  label: string;
  value: string;
}

function joined(...parts: (string | null | undefined)[]): string {
  return parts.filter((part): part is string => Boolean(part && part.trim())).join(" / ");
}

/** HL7 TS "20250101120000" → "2025-01-01 12:00:00" (a time zone suffix is kept); other text as is. */
export function readableTimestamp(value: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d+)?)?)?([+-]\d{4})?$/.exec(value.trim());
  if (!match) return value;
  const [, year, month, day, hour, minute, second, zone] = match;
  const date = `${year}-${month}-${day}`;
  if (!hour) return date;
  return `${date} ${hour}:${minute}${second ? `:${second}` : ""}${zone ? ` ${zone}` : ""}`;
}

/** The summary as labelled facts, skipping what the message does not carry. */
export function summaryFacts(summary: Hl7Summary | null | undefined): Fact[] {
  if (!summary) return [];
  const kind = [summary.message_type, summary.trigger_event].filter(Boolean).join("^");
  const facts: Fact[] = [
    { label: "Type", value: kind },
    { label: "Version", value: summary.version ?? "" },
    { label: "Control id", value: summary.control_id ?? "" },
    { label: "From", value: joined(summary.sending_application, summary.sending_facility) },
    { label: "To", value: joined(summary.receiving_application, summary.receiving_facility) },
    { label: "Sent at", value: summary.timestamp ? readableTimestamp(summary.timestamp) : "" },
    { label: "Patient", value: joined(summary.patient_name, summary.patient_id) },
  ];
  return facts.filter((fact) => fact.value !== "");
}

/** "PID-3" whether the server sent "PID-3" or just 3. */
export function fieldPosition(segment: string, position: number | string): string {
  const text = String(position);
  return /^[A-Z0-9]{3}-/.test(text) ? text : `${segment}-${text}`;
}

/** Errors first, then warnings, then anything else; the order within a severity is kept. */
export function sortedProblems(problems: Hl7Problem[]): Hl7Problem[] {
  const rank = (severity: string) => (severity === "error" ? 0 : severity === "warning" ? 1 : 2);
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => rank(a.problem.severity) - rank(b.problem.severity) || a.index - b.index)
    .map(({ problem }) => problem);
}
