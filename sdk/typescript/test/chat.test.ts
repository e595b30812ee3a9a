import { describe, expect, it } from "vitest";
import type { ApprovalRequiredFrame, ServerFrame } from "../src/index.js";
import { collect, mainUrl, ofType, signedIn, slowUrl } from "./helpers.js";

const tokensOf = (frames: ServerFrame[]) => ofType(frames, "token").map((f) => f.content).join("");

/** The stream's invariants: tokens concatenate to `final`, one result per call, one final. */
function expectWellFormed(frames: ServerFrame[]): void {
  const finals = ofType(frames, "final");
  expect(finals).toHaveLength(1);
  expect(tokensOf(frames)).toBe(finals[0]!.content);
  const calls = ofType(frames, "tool_call").map((f) => f.metadata.tool_call_id);
  const results = ofType(frames, "tool_result").map((f) => f.metadata.tool_call_id);
  expect(results.sort()).toEqual(calls.sort());
  const seqs = frames.filter((f) => f.run_id).map((f) => f.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
}

describe("sessions", () => {
  it("creates, lists, searches, reads, renames, exports and deletes", async () => {
    const { sb } = await signedIn(mainUrl(), "sessions");
    const created = await sb.chat.createSession("hello there, what can you do?");
    expect(created).toMatchObject({ message_type: "user", content: "hello there, what can you do?" });
    const answered = await collect(sb.chat.stream(created.session_id));
    expectWellFormed(answered);
    const page = await sb.chat.listSessions({ page: 1, size: 10 });
    expect(page.items.map((s) => s.session_id)).toContain(created.session_id);
    expect((await sb.chat.listSessions({ q: "what can you do" })).total).toBe(1);
    expect((await sb.chat.getSession(created.session_id)).total_messages).toBe(2);
    const messages = await sb.chat.messages(created.session_id);
    expect(messages.items.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect((await sb.chat.renameSession(created.session_id, "Renamed")).title).toBe("Renamed");
    expect(await sb.chat.export(created.session_id, "markdown")).toContain("what can you do");
    expect(JSON.parse(await sb.chat.export(created.session_id, "json"))).toHaveProperty("messages");
    await sb.chat.deleteSession(created.session_id);
    await expect(sb.chat.getSession(created.session_id)).rejects.toMatchObject({ status: 404 });
  });
});

describe("streaming over WebSocket", () => {
  it("answers the pending first message with a tool-using turn", async () => {
    const { sb } = await signedIn(mainUrl(), "ws");
    const { session_id } = await sb.chat.createSession("what are my open Jira tickets?");
    const frames = await collect(sb.chat.stream(session_id));
    expect(frames[0]?.type).toBe("connection_established");
    expectWellFormed(frames);
    const [call] = ofType(frames, "tool_call");
    expect(call?.metadata.tool_name).toMatch(/jira/);
    expect(ofType(frames, "tool_result")[0]?.metadata.status).toBe("completed");
    expect(ofType(frames, "final")[0]?.metadata.finish_reason).toBe("stop");
  });

  it.each([
    ["approve", "completed"],
    ["edit", "completed"],
    ["reject", "failed"],
  ] as const)("asks before a write and runs it only as the user decides (%s)", async (decision, status) => {
    const { sb } = await signedIn(mainUrl(), `approve_${decision}`);
    const { session_id } = await sb.chat.createSession("hi");
    await collect(sb.chat.stream(session_id));
    const stream = sb.chat.stream(session_id, { message: `create a bug in SB: typescript client ${decision} check` });
    const frames: ServerFrame[] = [];
    let asked: ApprovalRequiredFrame | undefined;
    for await (const frame of stream) {
      frames.push(frame);
      if (frame.type === "approval_required") {
        asked = frame;
        const args = { ...frame.metadata.args, summary: "typescript client edited summary" };
        if (decision === "approve") await stream.approve(frame.metadata.tool_call_id, { decision });
        if (decision === "edit") await stream.approve(frame.metadata.tool_call_id, { decision, args });
        if (decision === "reject") await stream.approve(frame.metadata.tool_call_id, { decision, message: "not now" });
      }
    }
    expect(asked?.metadata.allowed_decisions).toEqual(expect.arrayContaining(["approve", "edit", "reject"]));
    const results = ofType(frames, "tool_result");
    expect(results.at(-1)?.metadata.status).toBe(status);
    if (decision === "edit") expect(JSON.stringify(results.at(-1)?.metadata.result)).toContain("typescript client edited summary");
    expect(stream.final?.metadata.finish_reason).toBe("stop");
    expect(ofType(frames, "agent_event").some((f) => f.metadata.event_type === "approval_decision")).toBe(true);
  });

  it("cancels a running turn and keeps the partial answer", async () => {
    const { sb } = await signedIn(slowUrl(), "cancel");
    const { session_id } = await sb.chat.createSession("hi");
    await collect(sb.chat.stream(session_id));
    const stream = sb.chat.stream(session_id, { message: "give me a detailed guide to switchboard" });
    const frames: ServerFrame[] = [];
    for await (const frame of stream) {
      frames.push(frame);
      if (ofType(frames, "token").length === 5) await stream.cancel();
    }
    expect(stream.final?.metadata.finish_reason).toBe("cancelled");
    expect(tokensOf(frames)).toBe(stream.final?.content);
    expect(ofType(frames, "token").length).toBeLessThan(200);
  });

  it("resumes after a dropped connection with afterSeq, receiving every missed frame once", async () => {
    const { sb } = await signedIn(slowUrl(), "resume");
    const { session_id } = await sb.chat.createSession("hi");
    await collect(sb.chat.stream(session_id));
    const first = sb.chat.stream(session_id, { message: "give me a detailed guide to switchboard" });
    const seen: ServerFrame[] = [];
    for await (const frame of first) {
      seen.push(frame);
      if (ofType(seen, "token").length === 10) break; // the client goes away mid-answer
    }
    first.close();
    const rest = await collect(sb.chat.stream(session_id, { afterSeq: first.lastSeq }));
    const turnFrames = [...seen, ...rest].filter((f) => f.run_id);
    expect(rest.filter((f) => f.run_id).every((f) => f.seq > first.lastSeq)).toBe(true);
    expectWellFormed(turnFrames);
    expect(ofType(turnFrames, "final")[0]?.metadata.finish_reason).toBe("stop");
  });

  it("reconnects by itself when the socket drops and misses nothing", async () => {
    const { sb } = await signedIn(slowUrl(), "reconnect");
    const { session_id } = await sb.chat.createSession("hi");
    await collect(sb.chat.stream(session_id));
    const stream = sb.chat.stream(session_id, { message: "give me a detailed guide to switchboard" });
    const frames: ServerFrame[] = [];
    let dropped = false;
    for await (const frame of stream) {
      frames.push(frame);
      if (!dropped && ofType(frames, "token").length === 10) {
        dropped = true;
        // Cut the TCP connection under the client, as a flaky network would.
        (stream as unknown as { socket: { socket: { terminate(): void } } }).socket.socket.terminate();
      }
    }
    expect(dropped).toBe(true);
    expect(frames.filter((f) => f.type === "connection_established")).toHaveLength(2);
    expectWellFormed(frames.filter((f) => f.run_id));
  });
});

describe("streaming over SSE", () => {
  it("delivers the same turn as the WebSocket", async () => {
    const { sb } = await signedIn(mainUrl(), "sse");
    const ws = await sb.chat.createSession("what are my open Jira tickets?");
    const sse = await sb.chat.createSession("what are my open Jira tickets?");
    const overWs = (await collect(sb.chat.stream(ws.session_id))).filter((f) => f.run_id);
    const overSse = (await collect(sb.chat.stream(sse.session_id, { transport: "sse" }))).filter((f) => f.run_id);
    expect(overSse.map((f) => f.type)).toEqual(overWs.map((f) => f.type));
    expect(ofType(overSse, "final")[0]?.content).toBe(ofType(overWs, "final")[0]?.content);
    expectWellFormed(overSse);
  });

  it("answers approvals over SSE", async () => {
    const { sb } = await signedIn(mainUrl(), "sse_approve");
    const { session_id } = await sb.chat.createSession("hi");
    await collect(sb.chat.stream(session_id, { transport: "sse" }));
    const stream = sb.chat.stream(session_id, { message: "create a bug in SB: typescript sse approval", transport: "sse" });
    const frames: ServerFrame[] = [];
    for await (const frame of stream) {
      frames.push(frame);
      if (frame.type === "approval_required") await stream.approve(frame.metadata.tool_call_id, { decision: "approve" });
    }
    expect(ofType(frames, "tool_result").at(-1)?.metadata.status).toBe("completed");
    expect(stream.final?.metadata.finish_reason).toBe("stop");
  });
});
