import { describe, expect, it } from "vitest";
import { chatReducer, initialChatState, type AssistantItem, type ChatState } from "./reducer";
import type { ServerFrame } from "./protocol";
import { frame } from "../test/frames";
import { fieldsFromSchema, initialValues, payloadFromValues } from "./schemaForm";
import { clockLabel, linePath, niceMax, stackedBars } from "./charts";
import { timeAgo } from "./time";
import { tokenFromHash } from "../routes/ResetPasswordRoute";

function run(frames: ServerFrame[]): AssistantItem {
  const state: ChatState = frames.reduce((acc, f) => chatReducer(acc, { type: "frame", frame: f }), initialChatState);
  const item = state.items.find((i) => i.kind === "assistant");
  if (!item || item.kind !== "assistant") throw new Error("no assistant item");
  return item;
}

const wording = { tool_label: "Demo Jira · create issue", integration_name: "Demo Jira", integration_type: "jira" };

describe("tool wording from the server", () => {
  it("labels tool cards and keeps the label when the result frame lacks it", () => {
    const item = run([
      frame("tool_call", 1, "r1", "", { tool_name: "demo_jira__create_issue", tool_call_id: "c1", args: {}, status: "started", ...wording }),
      frame("tool_result", 2, "r1", "", { tool_name: "demo_jira__create_issue", tool_call_id: "c1", status: "completed", result: {} }),
    ]);
    expect(item.tools[0]).toMatchObject({ label: "Demo Jira · create issue", integrationType: "jira", status: "completed" });
  });

  it("reads the approval's summary, risk, target and schema", () => {
    const item = run([
      frame("approval_required", 1, "r1", "", {
        tool_call_id: "c1",
        tool_name: "demo_jira__create_issue",
        args: { summary: "PDF blank" },
        description: "Create a Jira issue...",
        allowed_decisions: ["approve", "edit", "reject"],
        summary: "Create a Bug in SB — “PDF blank”",
        risk: "write",
        args_schema: { type: "object", properties: { summary: { type: "string" } } },
        ...wording,
      }),
    ]);
    expect(item.approvals[0]).toMatchObject({
      summary: "Create a Bug in SB — “PDF blank”",
      risk: "write",
      integrationName: "Demo Jira",
      label: "Demo Jira · create issue",
    });
    expect(item.approvals[0]?.argsSchema?.properties).toHaveProperty("summary");
  });

  it("falls back to the description for an older server without a summary", () => {
    const item = run([
      frame("approval_required", 1, "r1", "", { tool_call_id: "c1", tool_name: "x__send", args: {}, description: "Send it", allowed_decisions: ["approve"] }),
    ]);
    expect(item.approvals[0]).toMatchObject({ summary: "Send it", label: "x__send", risk: null });
  });
});

describe("tool argument forms", () => {
  const schema = {
    type: "object",
    required: ["summary"],
    properties: {
      summary: { type: "string", maxLength: 255 },
      labels: { anyOf: [{ type: "array", items: { type: "string" } }, { type: "null" }], default: null },
      fields: { anyOf: [{ type: "object" }, { type: "null" }], default: null },
    },
  };

  it("edits lists as comma-separated text and objects as JSON", () => {
    const fields = fieldsFromSchema(schema);
    expect(fields.map((f) => f.kind)).toEqual(["string", "list", "json"]);
    const values = initialValues(fields, { summary: "PDF blank", labels: ["pdf", "discharge"], fields: { Component: "DB" } });
    expect(values.labels).toBe("pdf, discharge");
    const payload = payloadFromValues(fields, { ...values, labels: "pdf, , urgent" }, false);
    expect(payload.errors).toEqual({});
    expect(payload.value).toEqual({ summary: "PDF blank", labels: ["pdf", "urgent"], fields: { Component: "DB" } });
    expect(payloadFromValues(fields, { ...values, fields: "[1]" }, false).errors.fields).toMatch(/JSON object/);
  });
});

describe("charts", () => {
  it("rounds the axis up to 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 3, 7, 12, 480].map(niceMax)).toEqual([1, 1, 5, 10, 20, 500]);
  });

  it("stacks bars bottom up and breaks lines at gaps", () => {
    const bars = stackedBars([{ a: 1, b: 1 }, { a: 0, b: 2 }], ["a", "b"], 100, 100, 2);
    expect(bars[0]?.segments.map((s) => [s.y, s.height])).toEqual([[50, 50], [0, 50]]);
    expect(bars[1]?.x).toBeGreaterThan(bars[0]!.x);
    expect(linePath([1, null, 2], 30, 10, 2)).toBe("M5.0,5.0M25.0,0.0");
    expect(clockLabel(new Date(2026, 0, 1, 9, 5).toISOString())).toBe("09:05");
  });
});

describe("small helpers", () => {
  it("says how long ago", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(timeAgo(null, now)).toBe("never");
    expect(timeAgo("2026-01-01T11:59:50Z", now)).toBe("just now");
    expect(timeAgo("2026-01-01T11:55:00Z", now)).toBe("5 min ago");
    expect(timeAgo("2026-01-01T09:00:00Z", now)).toBe("3 h ago");
  });

  it("reads the reset token from the fragment", () => {
    expect(tokenFromHash("#token=abc_DEF-1")).toBe("abc_DEF-1");
    expect(tokenFromHash("")).toBe("");
  });
});
