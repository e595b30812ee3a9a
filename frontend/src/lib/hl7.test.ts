import { describe, expect, it } from "vitest";
import { fieldPosition, readableTimestamp, sortedProblems, summaryFacts } from "./hl7";

describe("summaryFacts", () => {
  it("labels what the message carries and skips what it lacks", () => {
    const facts = summaryFacts({
      message_type: "ADT",
      trigger_event: "A01",
      version: "2.5.1",
      control_id: "MSG1",
      sending_application: "EMR",
      sending_facility: "HOSP",
      receiving_application: "",
      receiving_facility: null,
      timestamp: "20250101120000",
      patient_id: "PAT-77",
      patient_name: "JANE DOE",
    });
    expect(facts).toEqual([
      { label: "Type", value: "ADT^A01" },
      { label: "Version", value: "2.5.1" },
      { label: "Control id", value: "MSG1" },
      { label: "From", value: "EMR / HOSP" },
      { label: "Sent at", value: "2025-01-01 12:00:00" },
      { label: "Patient", value: "JANE DOE / PAT-77" },
    ]);
  });

  it("is empty without a summary", () => {
    expect(summaryFacts(null)).toEqual([]);
    expect(summaryFacts({})).toEqual([]);
  });
});

describe("fieldPosition", () => {
  it("keeps a full position and completes a bare number", () => {
    expect(fieldPosition("PID", "PID-3")).toBe("PID-3");
    expect(fieldPosition("PID", 3)).toBe("PID-3");
    expect(fieldPosition("ZZ1", "2")).toBe("ZZ1-2");
  });
});

describe("sortedProblems", () => {
  it("puts errors before warnings and keeps the order otherwise", () => {
    const problems = [
      { severity: "warning", location: "EVN", message: "a" },
      { severity: "error", location: "PID-3", message: "b" },
      { severity: "info", location: "ZZZ", message: "c" },
      { severity: "warning", location: "PV1", message: "d" },
    ];
    expect(sortedProblems(problems).map((p) => p.message)).toEqual(["b", "a", "d", "c"]);
  });
});

describe("readableTimestamp", () => {
  it("formats HL7 timestamps of any precision and leaves other text alone", () => {
    expect(readableTimestamp("20250101")).toBe("2025-01-01");
    expect(readableTimestamp("202501011230")).toBe("2025-01-01 12:30");
    expect(readableTimestamp("20250101123045.123-0500")).toBe("2025-01-01 12:30:45 -0500");
    expect(readableTimestamp("yesterday")).toBe("yesterday");
  });
});
