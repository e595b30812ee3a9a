import { describe, expect, it } from "vitest";
import { activeRun, chatReducer, initialChatState, type AssistantItem, type ChatState } from "./reducer";
import type { ServerFrame, StoredMessage } from "./protocol";
import { approvalRequired, final, frame, token, toolCall, toolResult } from "../test/frames";

function run(frames: ServerFrame[], state: ChatState = initialChatState): ChatState {
  return frames.reduce((acc, f) => chatReducer(acc, { type: "frame", frame: f }), state);
}

function assistant(state: ChatState, runId = "r1"): AssistantItem {
  const item = state.items.find((i) => i.kind === "assistant" && i.runId === runId);
  if (!item || item.kind !== "assistant") throw new Error(`no assistant item for ${runId}`);
  return item;
}

describe("chatReducer", () => {
  it("assembles tokens of a run in order into one streaming answer", () => {
    const state = run([frame("connection_established", 1, ""), token(2, "r1", "Hel"), token(3, "r1", "lo "), token(4, "r1", "world")]);
    expect(state.items).toHaveLength(1);
    expect(assistant(state)).toMatchObject({ content: "Hello world", streaming: true, finishReason: null });
    expect(activeRun(state)?.runId).toBe("r1");
    expect(state.lastSeq).toBe(4);
  });

  it("lets final replace the assembled text with its content and end the run", () => {
    const state = run([token(1, "r1", "Hel"), token(2, "r1", "lo"), final(3, "r1", "Hello, corrected.")]);
    expect(assistant(state)).toMatchObject({
      content: "Hello, corrected.",
      streaming: false,
      finishReason: "stop",
      messageId: "m-r1",
      tokensUsed: 7,
    });
    expect(activeRun(state)).toBeNull();
  });

  it("ignores a frame it has already applied", () => {
    const once = run([token(1, "r1", "a"), token(2, "r1", "b")]);
    const twice = run([token(2, "r1", "b"), token(1, "r1", "a")], once);
    expect(assistant(twice).content).toBe("ab");
  });

  it("takes a tool card from started to completed, and another to failed", () => {
    const started = run([toolCall(1, "r1", "t1", { jql: "assignee = me" }), toolCall(2, "r1", "t2")]);
    expect(assistant(started).tools.map((t) => t.status)).toEqual(["started", "started"]);
    expect(assistant(started).tools[0]?.args).toEqual({ jql: "assignee = me" });
    const done = run([toolResult(3, "r1", "t1", "completed", { issues: 2 }), toolResult(4, "r1", "t2", "failed", "timeout")], started);
    const tools = assistant(done).tools;
    expect(tools.map((t) => [t.toolCallId, t.status])).toEqual([["t1", "completed"], ["t2", "failed"]]);
    expect(tools[0]?.result).toEqual({ issues: 2 });
    expect(tools[0]?.args).toEqual({ jql: "assignee = me" });
    expect(tools[1]?.result).toBe("timeout");
  });

  it("shows an approval as pending until the decision is streamed, then resolved", () => {
    const pending = run([approvalRequired(1, "r1", "t9")]);
    expect(assistant(pending).approvals).toEqual([
      expect.objectContaining({ toolCallId: "t9", status: "pending", allowedDecisions: ["approve", "edit", "reject"] }),
    ]);
    // Paused for a person: nothing is generating, so the composer may send (the server moves on).
    expect(activeRun(pending)).toBeNull();
    const decided = run(
      [
        frame("agent_event", 2, "r1", "", {
          event_type: "approval_decision",
          details: { tool_call_id: "t9", decision: "reject", by: "user" },
        }),
        final(3, "r1", "Not created."),
      ],
      pending,
    );
    expect(assistant(decided).approvals[0]).toMatchObject({ status: "resolved", decision: "reject" });
    expect(assistant(decided).streaming).toBe(false);
  });

  it("settles a paused run when a newer run starts", () => {
    const state = run([approvalRequired(1, "r1", "t9"), token(2, "r2", "Moving on")]);
    expect(assistant(state, "r1")).toMatchObject({ streaming: false });
    expect(assistant(state, "r1").approvals[0]).toMatchObject({ status: "resolved", decision: "not run" });
    expect(activeRun(state)?.runId).toBe("r2");
  });

  it("resolves an approval when the tool's result arrives", () => {
    const state = run([approvalRequired(1, "r1", "t9"), toolCall(2, "r1", "t9"), toolResult(3, "r1", "t9")]);
    expect(assistant(state).approvals[0]?.status).toBe("resolved");
    expect(assistant(state).tools[0]?.status).toBe("completed");
  });

  it("reaches the same state from a reconnect replay as from the uninterrupted stream", () => {
    const live = [
      token(2, "r1", "Checking"),
      toolCall(3, "r1", "t1", { q: "x" }),
      toolResult(4, "r1", "t1", "completed", "3 tickets"),
      token(5, "r1", " you have "),
      token(6, "r1", "3 tickets."),
      final(7, "r1", "Checking you have 3 tickets."),
    ];
    const uninterrupted = run(live);
    // Disconnected after seq 3; the finished turn is replayed with tokens folded into final.
    const beforeDrop = run(live.slice(0, 2));
    const replay = [live[2], live[5]].filter((f): f is ServerFrame => f !== undefined);
    const resumed = run([frame("connection_established", 9, ""), ...replay], beforeDrop);
    expect(resumed.items).toEqual(uninterrupted.items);
    expect(resumed.lastSeq).toBe(uninterrupted.lastSeq);
  });

  it("marks a cancelled run with its finish reason and keeps the partial answer", () => {
    const state = run([token(1, "r1", "Partial"), toolCall(2, "r1", "t1"), final(3, "r1", "Partial", "cancelled")]);
    expect(assistant(state)).toMatchObject({ content: "Partial", streaming: false, finishReason: "cancelled" });
    expect(assistant(state).tools[0]?.status).toBe("failed");
  });

  it("builds items from history and ignores replayed frames of stored runs", () => {
    const history: StoredMessage[] = [
      { message_id: "u1", role: "user", content: "Hi", metadata: {}, created_at: "" },
      {
        message_id: "a1",
        role: "assistant",
        content: "Hello",
        tool_calls: [{ id: "t1", name: "jira_search", args: {}, status: "completed", result: "none" }],
        metadata: { run_id: "r1", finish_reason: "stop", tokens_used: 3 },
        created_at: "",
      },
      { message_id: "old", role: "assistant", content: "Old", metadata: { run_id: "r0", superseded: true }, created_at: "" },
    ];
    const loaded = chatReducer(initialChatState, { type: "history", messages: history });
    expect(loaded.items.map((i) => i.kind)).toEqual(["user", "assistant"]);
    const replayed = run([final(1, "r0", "Old"), final(2, "r1", "Hello")], loaded);
    expect(replayed.items).toEqual(loaded.items);
    const next = run([token(3, "r2", "New")], replayed);
    expect(next.items.map((i) => i.kind)).toEqual(["user", "assistant", "assistant"]);
  });

  it("keeps a streaming run when history is reloaded mid-turn", () => {
    const streaming = run([token(1, "r5", "Work")], chatReducer(initialChatState, { type: "user_sent", content: "Go", localId: "x" }));
    const reloaded = chatReducer(streaming, {
      type: "history",
      messages: [{ message_id: "u5", role: "user", content: "Go", metadata: {}, created_at: "" }],
    });
    expect(reloaded.items.map((i) => (i.kind === "user" ? i.messageId : i.kind))).toEqual(["u5", "assistant"]);
    // The message sent from this tab keeps its key now that it has a server id.
    expect(reloaded.items[0]?.key).toBe(streaming.items[0]?.key);
  });

  it("keeps the decided approval and the call's arguments when the stored answer replaces the live one", () => {
    const live = run([
      approvalRequired(1, "r7", "t7"),
      toolCall(2, "r7", "t7", { summary: "Broken login" }),
      frame("agent_event", 3, "r7", "", { event_type: "approval_decision", details: { tool_call_id: "t7", decision: "reject" } }),
      toolResult(4, "r7", "t7", "failed", "rejected by the user"),
      final(5, "r7", "Not created."),
    ]);
    const reloaded = chatReducer(live, {
      type: "history",
      messages: [
        { message_id: "u7", role: "user", content: "Create it", metadata: {}, created_at: "" },
        {
          message_id: "a7",
          role: "assistant",
          content: "Not created.",
          // The history has no approval cards and, on this path, no arguments.
          tool_calls: [{ id: "t7", name: "jira_create_issue", status: "failed", result: "rejected by the user" }],
          metadata: { run_id: "r7", finish_reason: "stop" },
          created_at: "",
        },
      ],
    });
    const answer = assistant(reloaded, "r7");
    expect(answer.messageId).toBe("a7");
    expect(answer.key).toBe(assistant(live, "r7").key);
    expect(answer.tools).toEqual([expect.objectContaining({ toolCallId: "t7", status: "failed", args: { summary: "Broken login" } })]);
    expect(answer.approvals).toEqual([expect.objectContaining({ toolCallId: "t7", status: "resolved", decision: "reject" })]);
  });

  it("drops the last answer on regenerate and later messages on edit", () => {
    const base = chatReducer(initialChatState, {
      type: "history",
      messages: [
        { message_id: "u1", role: "user", content: "One", metadata: {}, created_at: "" },
        { message_id: "a1", role: "assistant", content: "A", metadata: { run_id: "r1" }, created_at: "" },
        { message_id: "u2", role: "user", content: "Two", metadata: {}, created_at: "" },
        { message_id: "a2", role: "assistant", content: "B", metadata: { run_id: "r2" }, created_at: "" },
      ],
    });
    expect(chatReducer(base, { type: "regenerate" }).items).toHaveLength(3);
    const edited = chatReducer(base, { type: "edit", messageId: "u1", content: "Uno" });
    expect(edited.items).toEqual([expect.objectContaining({ kind: "user", content: "Uno", messageId: "u1" })]);
  });

  it("shows connection-level errors as notices", () => {
    const state = run([frame("error", 4, "", "A run is already in progress.", { code: "run_in_progress" })]);
    expect(state.items).toEqual([expect.objectContaining({ kind: "notice", code: "run_in_progress" })]);
  });
});
