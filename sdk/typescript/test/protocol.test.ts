import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseServerFrame, SERVER_FRAME_TYPES, type ServerFrame } from "../src/index.js";

// The frames a real server sent (recorded by tests/backend/test_protocol.py), shared with the
// Python client's tests: both clients must read them the same way.
const FIXTURE = resolve(import.meta.dirname, "../../../tests/fixtures/protocol/frames.jsonl");
const lines = readFileSync(FIXTURE, "utf8").split("\n").filter(Boolean);

describe("the recorded frames", () => {
  it("parse into every frame type with their metadata", () => {
    const frames = lines.map((line) => parseServerFrame(line));
    expect(frames.every((f): f is ServerFrame => f !== null)).toBe(true);
    const byType = new Map((frames as ServerFrame[]).map((f) => [f.type, f]));
    expect([...byType.keys()].sort()).toEqual([...SERVER_FRAME_TYPES].sort());
    const call = byType.get("tool_call");
    const result = byType.get("tool_result");
    const approval = byType.get("approval_required");
    const final = byType.get("final");
    if (call?.type !== "tool_call" || result?.type !== "tool_result" || approval?.type !== "approval_required" || final?.type !== "final") {
      throw new Error("frame types did not narrow");
    }
    expect(call.metadata.status).toBe("started");
    expect(result.metadata.tool_call_id).toBe(call.metadata.tool_call_id);
    expect(approval.metadata.allowed_decisions).toContain("approve");
    expect(final.metadata.finish_reason).toBe("stop");
    expect(typeof final.metadata.tokens_used).toBe("number");
    for (const frame of frames as ServerFrame[]) expect(typeof frame.seq).toBe("number");
  });

  it("drops what is not a frame instead of trusting it", () => {
    expect(parseServerFrame("not json")).toBeNull();
    expect(parseServerFrame('{"type":"token"}')).toBeNull(); // no seq
    expect(parseServerFrame('{"type":"from_the_future","seq":1}')).toBeNull();
    expect(parseServerFrame('{"type":"pong","seq":3}')).toMatchObject({ type: "pong", content: "", metadata: {}, run_id: "" });
  });
});
