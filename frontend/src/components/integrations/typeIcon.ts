/** A short, recognisable mark per integration type (decorative; the type name is always shown too). */
const MARKS: Record<string, string> = { jira: "JI", emr: "EMR", hl7: "HL7" };

export function typeMark(type: string): string {
  return MARKS[type] ?? type.slice(0, 3).toUpperCase();
}

export function statusTone(status: string): "ok" | "bad" | "warn" | "neutral" {
  if (["active", "connected", "ok", "healthy"].includes(status)) return "ok";
  if (["error", "failed", "unreachable", "inactive"].includes(status)) return "bad";
  if (["pending", "untested", "degraded"].includes(status)) return "warn";
  return "neutral";
}
