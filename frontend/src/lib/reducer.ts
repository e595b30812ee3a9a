/**
 * The pure chat reducer: stored history plus streamed frames → what the message list shows.
 * One assistant item per run (run_id): tokens assemble its text, tool cards go started →
 * completed/failed, approvals pending → resolved, and `final` replaces the text with `content`.
 */

import type {
  ApprovalDecision,
  FinishReason,
  JsonObject,
  JsonSchema,
  JsonValue,
  ServerFrame,
  StoredMessage,
  StoredToolCall,
  ToolRisk,
  ToolWording,
} from "./protocol";

export type ToolStatus = "started" | "completed" | "failed";

export interface ToolCard {
  toolCallId: string;
  toolName: string;
  args: JsonObject;
  status: ToolStatus;
  result?: JsonValue;
  /** The server's wording: "Demo Jira · my open issues", the integration type, the call's summary. */
  label?: string;
  integrationType?: string | null;
  summary?: string;
}

export interface ApprovalCard {
  toolCallId: string;
  toolName: string;
  args: JsonObject;
  description: string;
  summary: string;
  risk: ToolRisk | null;
  label: string;
  integrationName: string | null;
  integrationType: string | null;
  argsSchema: JsonSchema | null;
  allowedDecisions: ApprovalDecision[];
  status: "pending" | "resolved";
  decision?: string;
}

export interface UserItem {
  kind: "user";
  key: string;
  messageId: string | null;
  content: string;
}

export interface AssistantItem {
  kind: "assistant";
  key: string;
  runId: string;
  messageId: string | null;
  content: string;
  streaming: boolean;
  finishReason: FinishReason | null;
  tokensUsed: number | null;
  tools: ToolCard[];
  approvals: ApprovalCard[];
  /** The latest agent_event (e.g. "thinking") while the run is in progress. */
  activity: string | null;
  error: string | null;
}

export interface NoticeItem {
  kind: "notice";
  key: string;
  code: string;
  content: string;
}

export type ChatItem = UserItem | AssistantItem | NoticeItem;

export interface ChatState {
  items: ChatItem[];
  /** Highest stream seq applied; frames at or below it are replays and ignored. */
  lastSeq: number;
  /** Runs whose answer is already in the stored history; their replayed frames change nothing. */
  storedRuns: string[];
}

export type ChatAction =
  | { type: "history"; messages: StoredMessage[] }
  | { type: "frame"; frame: ServerFrame }
  | { type: "user_sent"; content: string; messageId?: string | null; localId: string }
  | { type: "regenerate" }
  | { type: "edit"; messageId: string; content: string }
  | { type: "dismiss_notice"; key: string };

export const initialChatState: ChatState = { items: [], lastSeq: 0, storedRuns: [] };

function str(value: JsonValue | undefined, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function isFinishReason(value: unknown): value is FinishReason {
  return value === "stop" || value === "cancelled" || value === "error";
}

function newAssistant(runId: string): AssistantItem {
  return {
    kind: "assistant",
    key: `run-${runId}`,
    runId,
    messageId: null,
    content: "",
    streaming: true,
    finishReason: null,
    tokensUsed: null,
    tools: [],
    approvals: [],
    activity: null,
    error: null,
  };
}

function toolFromStored(call: StoredToolCall, index: number): ToolCard {
  const status = call.status === "failed" ? "failed" : call.status === "started" ? "started" : "completed";
  const card: ToolCard = {
    toolCallId: call.id ?? `stored-${index}`,
    toolName: call.name ?? "tool",
    args: call.args ?? {},
    status,
  };
  if (call.result !== undefined) card.result = call.result;
  if (call.label) card.label = call.label;
  if (call.integration_type) card.integrationType = call.integration_type;
  return card;
}

function isEmpty(args: JsonObject): boolean {
  return Object.keys(args).length === 0;
}

/**
 * A stored answer replacing the one we watched stream: the history does not keep approval cards
 * (nor, for some paths, a call's arguments), so what the user saw decided stays on screen.
 */
function mergeSeenLive(stored: AssistantItem, live: AssistantItem | undefined): AssistantItem {
  if (!live) return stored;
  const tools = stored.tools.map((tool) => {
    const seen = live.tools.find((candidate) => candidate.toolCallId === tool.toolCallId);
    return seen && isEmpty(tool.args) && !isEmpty(seen.args) ? { ...tool, args: seen.args } : tool;
  });
  const approvals = live.approvals.map((a) => (a.status === "pending" ? { ...a, status: "resolved" as const, decision: a.decision ?? "expired" } : a));
  // The same key: React keeps the message mounted, so expanded cards and focus survive the swap.
  return { ...stored, key: live.key, tools, approvals };
}

/** Rebuild items from stored history, keeping runs still streaming that the history lacks. */
function applyHistory(state: ChatState, messages: StoredMessage[]): ChatState {
  const liveRuns = new Map<string, AssistantItem>();
  for (const item of state.items) if (item.kind === "assistant") liveRuns.set(item.runId, item);
  // Messages sent from this tab keep their key once stored (no remount, no flicker).
  const unsent = state.items.filter((item): item is UserItem => item.kind === "user" && item.messageId === null);
  const items: ChatItem[] = [];
  const storedRuns = new Set<string>();
  for (const message of messages) {
    const runId = str(message.metadata.run_id);
    if (message.role === "assistant" && runId) storedRuns.add(runId);
    if (message.metadata.superseded === true || message.role === "tool") continue;
    if (message.role === "user") {
      const local = unsent.findIndex((item) => item.content === message.content);
      const key = local === -1 ? `msg-${message.message_id}` : (unsent.splice(local, 1)[0] as UserItem).key;
      items.push({ kind: "user", key, messageId: message.message_id, content: message.content });
    } else {
      const finish = message.metadata.finish_reason;
      const tokens = message.metadata.tokens_used;
      const stored: AssistantItem = {
        ...newAssistant(runId || message.message_id),
        key: `msg-${message.message_id}`,
        messageId: message.message_id,
        content: message.content,
        streaming: false,
        finishReason: isFinishReason(finish) ? finish : "stop",
        tokensUsed: typeof tokens === "number" ? tokens : null,
        tools: (message.tool_calls ?? []).map(toolFromStored),
      };
      items.push(mergeSeenLive(stored, runId ? liveRuns.get(runId) : undefined));
    }
  }
  // A run not in the history yet (still streaming, or awaiting approval) stays at the end.
  const live = state.items.filter(
    (item): item is AssistantItem => item.kind === "assistant" && !storedRuns.has(item.runId) && item.streaming,
  );
  return { ...state, items: [...items, ...live], storedRuns: [...storedRuns] };
}

/** A run left behind by a newer one (a message sent while an approval was pending) is over. */
function settleStale(item: ChatItem): ChatItem {
  if (item.kind !== "assistant" || !item.streaming) return item;
  return {
    ...item,
    streaming: false,
    activity: null,
    approvals: item.approvals.map((a) => (a.status === "pending" ? { ...a, status: "resolved", decision: "not run" } : a)),
    tools: item.tools.map((t) => (t.status === "started" ? { ...t, status: "failed", result: "not run" } : t)),
  };
}

function updateRun(state: ChatState, runId: string, update: (item: AssistantItem) => AssistantItem): ChatState {
  const index = state.items.findIndex((item) => item.kind === "assistant" && item.runId === runId);
  if (index === -1) return { ...state, items: [...state.items.map(settleStale), update(newAssistant(runId))] };
  const items = state.items.slice();
  items[index] = update(items[index] as AssistantItem);
  return { ...state, items };
}

/** A tool card's wording from a frame, falling back to what an earlier frame of the call said. */
function wording(meta: ToolWording, earlier?: ToolCard): Pick<ToolCard, "label" | "integrationType" | "summary"> {
  const out: Pick<ToolCard, "label" | "integrationType" | "summary"> = {};
  const label = meta.tool_label || earlier?.label;
  const kind = meta.integration_type || earlier?.integrationType;
  const summary = meta.summary || earlier?.summary;
  if (label) out.label = label;
  if (kind) out.integrationType = kind;
  if (summary) out.summary = summary;
  return out;
}

function upsertTool(tools: ToolCard[], card: ToolCard): ToolCard[] {
  const index = tools.findIndex((tool) => tool.toolCallId === card.toolCallId);
  if (index === -1) return [...tools, card];
  const next = tools.slice();
  next[index] = { ...tools[index], ...card };
  return next;
}

function resolveApproval(approvals: ApprovalCard[], toolCallId: string, decision: string): ApprovalCard[] {
  return approvals.map((approval) =>
    approval.toolCallId === toolCallId && approval.status === "pending"
      ? { ...approval, status: "resolved", decision }
      : approval,
  );
}

function applyRunFrame(item: AssistantItem, frame: ServerFrame): AssistantItem {
  switch (frame.type) {
    case "token":
      return { ...item, content: item.content + frame.content, streaming: true, activity: null };
    case "agent_event": {
      const meta = frame.metadata;
      if (meta.event_type === "approval_decision") {
        // The decision's fields live under `details` (agents/runtime.py); accept them at top level too.
        const details = (
          typeof meta.details === "object" && meta.details !== null && !Array.isArray(meta.details) ? meta.details : meta
        ) as JsonObject;
        const toolCallId = str(details.tool_call_id);
        if (!toolCallId) return item;
        return { ...item, approvals: resolveApproval(item.approvals, toolCallId, str(details.decision, "decided")) };
      }
      return { ...item, activity: meta.event_type || null };
    }
    case "tool_call":
      return {
        ...item,
        activity: null,
        tools: upsertTool(item.tools, {
          toolCallId: frame.metadata.tool_call_id,
          toolName: frame.metadata.tool_name,
          args: frame.metadata.args ?? {},
          status: "started",
          ...wording(frame.metadata),
        }),
      };
    case "tool_result": {
      const existing = item.tools.find((tool) => tool.toolCallId === frame.metadata.tool_call_id);
      const toolCallId = frame.metadata.tool_call_id;
      return {
        ...item,
        // A result settles any approval of the same call (approved, edited or rejected).
        approvals: resolveApproval(item.approvals, toolCallId, frame.metadata.status === "failed" ? "failed" : "done"),
        tools: upsertTool(item.tools, {
          toolCallId,
          toolName: frame.metadata.tool_name || existing?.toolName || "tool",
          args: existing?.args ?? {},
          status: frame.metadata.status === "failed" ? "failed" : "completed",
          result: frame.metadata.result,
          ...wording(frame.metadata, existing),
        }),
      };
    }
    case "approval_required": {
      const meta = frame.metadata;
      const card: ApprovalCard = {
        toolCallId: meta.tool_call_id,
        toolName: meta.tool_name,
        args: (meta.args ?? {}) as JsonObject, // the tool's own arguments: JSON from the model
        description: meta.description ?? "",
        summary: meta.summary || meta.description || meta.tool_name,
        risk: meta.risk ?? null,
        label: meta.tool_label || meta.tool_name,
        integrationName: meta.integration_name ?? null,
        integrationType: meta.integration_type ?? null,
        argsSchema: meta.args_schema ?? null,
        allowedDecisions: Array.isArray(meta.allowed_decisions) ? meta.allowed_decisions : ["approve", "reject"],
        status: "pending",
      };
      const others = item.approvals.filter((approval) => approval.toolCallId !== card.toolCallId);
      return { ...item, activity: null, approvals: [...others, card] };
    }
    case "final": {
      const meta = frame.metadata;
      return {
        ...item,
        content: frame.content,
        streaming: false,
        messageId: meta.message_id ?? item.messageId,
        finishReason: isFinishReason(meta.finish_reason) ? meta.finish_reason : "stop",
        tokensUsed: typeof meta.tokens_used === "number" ? meta.tokens_used : item.tokensUsed,
        activity: null,
        // Whatever was still pending can no longer be answered once the turn is over.
        approvals: item.approvals.map((a) => (a.status === "pending" ? { ...a, status: "resolved", decision: "expired" } : a)),
        tools: item.tools.map((t) => (t.status === "started" ? { ...t, status: "failed", result: "not completed" } : t)),
      };
    }
    case "error":
      return { ...item, error: frame.content || frame.metadata.code };
    default:
      return item;
  }
}

function applyFrame(state: ChatState, frame: ServerFrame): ChatState {
  if (frame.type === "connection_established" || frame.type === "pong") return state;
  if (frame.type === "error" && !frame.run_id) {
    const notice: NoticeItem = { kind: "notice", key: `notice-${frame.seq}`, code: frame.metadata.code, content: frame.content };
    return { ...state, items: [...state.items, notice] };
  }
  if (frame.seq <= state.lastSeq) return state;
  const next = { ...state, lastSeq: frame.seq };
  if (!frame.run_id || state.storedRuns.includes(frame.run_id)) return next;
  return updateRun(next, frame.run_id, (item) => applyRunFrame(item, frame));
}

/** Drop the answer after the last user message (it is being regenerated). */
function dropLastAnswer(items: ChatItem[]): ChatItem[] {
  let lastUser = -1;
  items.forEach((item, index) => {
    if (item.kind === "user") lastUser = index;
  });
  return lastUser === -1 ? items : items.slice(0, lastUser + 1);
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "history":
      return applyHistory(state, action.messages);
    case "frame":
      return applyFrame(state, action.frame);
    case "user_sent":
      return {
        ...state,
        items: [
          ...state.items,
          { kind: "user", key: `local-${action.localId}`, messageId: action.messageId ?? null, content: action.content },
        ],
      };
    case "regenerate":
      return { ...state, items: dropLastAnswer(state.items) };
    case "edit": {
      const index = state.items.findIndex((item) => item.kind === "user" && item.messageId === action.messageId);
      if (index === -1) return state;
      const edited: UserItem = { ...(state.items[index] as UserItem), content: action.content };
      return { ...state, items: [...state.items.slice(0, index), edited] };
    }
    case "dismiss_notice":
      return { ...state, items: state.items.filter((item) => item.key !== action.key) };
  }
}

/** Whether a run is paused on a person's decision (nothing runs; a new message moves on). */
export function awaitingApproval(item: AssistantItem): boolean {
  return item.streaming && item.approvals.some((approval) => approval.status === "pending");
}

/** The run currently generating (not one paused for an approval), if any. */
export function activeRun(state: ChatState): AssistantItem | null {
  for (let i = state.items.length - 1; i >= 0; i -= 1) {
    const item = state.items[i];
    if (item?.kind === "assistant" && item.streaming && !awaitingApproval(item)) return item;
  }
  return null;
}
