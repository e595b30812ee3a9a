/**
 * One chat session in the browser: its reducer state, its stream and the actions the UI takes.
 * Controllers outlive the chat view (kept in a small cache), so leaving a chat and coming back
 * resumes the stream after the last seq and a running answer is still seen streaming.
 */

import { useSyncExternalStore } from "react";
import { api, freshAccessToken, refreshTokens } from "./api";
import { activeRun, chatReducer, initialChatState, type ChatAction, type ChatState } from "./reducer";
import { ChatStream, type ConnectionState, type StreamOptions } from "./stream";
import { clearTokens } from "./tokens";
import type { ApprovalDecision, ClientFrame, JsonObject, Page, StoredMessage } from "./protocol";

export interface ConnectionInfo {
  state: ConnectionState;
  attempt: number;
  retryInMs: number | null;
  /** Why the server refused the stream for good (unknown session, not ours, signed out). */
  fatal: string | null;
}

export interface ChatSnapshot {
  chat: ChatState;
  connection: ConnectionInfo;
  historyError: string | null;
}

const HISTORY_PAGE_SIZE = 100;
const HISTORY_MAX_PAGES = 20;
const CACHE_LIMIT = 8;

let localCounter = 0;

export class ChatController {
  private snapshot: ChatSnapshot = {
    chat: initialChatState,
    connection: { state: "idle", attempt: 0, retryInMs: null, fatal: null },
    historyError: null,
  };
  private listeners = new Set<() => void>();
  private stream: ChatStream | null = null;
  private historyLoaded = false;
  private historyReload: ReturnType<typeof setTimeout> | null = null;
  private readonly onOnline = () => this.stream?.reconnectNow();
  onActivity: (() => void) | null = null;

  constructor(
    readonly sessionId: string,
    private readonly streamOptions: Partial<StreamOptions> = {},
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ChatSnapshot => this.snapshot;

  get attached(): boolean {
    return this.stream !== null;
  }

  /** Start showing the chat: load history once, then stream (resuming after the last seq). */
  async attach(): Promise<void> {
    if (this.stream) return;
    const stream = new ChatStream({
      sessionId: this.sessionId,
      getToken: freshAccessToken,
      refreshAuth: refreshTokens,
      ...this.streamOptions,
    });
    this.stream = stream;
    stream.subscribe((event) => {
      if (event.type === "frame") {
        this.dispatch({ type: "frame", frame: event.frame });
        if (event.frame.type === "final") {
          this.scheduleHistoryReload();
          this.onActivity?.();
        }
      } else if (event.type === "state") {
        this.setConnection({ state: event.state, attempt: event.attempt, retryInMs: event.retryInMs, fatal: null });
      } else {
        this.setConnection({ ...this.snapshot.connection, state: "closed", fatal: event.reason });
        if (event.code === 4401) clearTokens();
      }
    });
    window.addEventListener("online", this.onOnline);
    if (!this.historyLoaded) {
      await this.loadHistory();
      if (this.stream !== stream) return; // detached while loading
    }
    stream.start(this.snapshot.chat.lastSeq);
  }

  /** Stop streaming (the user left the chat); the state is kept for when they return. */
  detach(): void {
    window.removeEventListener("online", this.onOnline);
    this.stream?.stop();
    this.stream = null;
    if (this.historyReload) clearTimeout(this.historyReload);
    this.historyReload = null;
  }

  sendMessage(text: string): void {
    localCounter += 1;
    this.dispatch({ type: "user_sent", content: text, localId: String(localCounter) });
    this.send({ type: "message", message: text });
    this.onActivity?.();
  }

  cancel(): void {
    this.send({ type: "cancel" });
  }

  regenerate(): void {
    this.dispatch({ type: "regenerate" });
    this.send({ type: "regenerate" });
  }

  edit(messageId: string, text: string): void {
    this.dispatch({ type: "edit", messageId, content: text });
    this.send({ type: "edit", message_id: messageId, message: text });
  }

  answerApproval(toolCallId: string, decision: ApprovalDecision, extra: { args?: JsonObject; reason?: string } = {}): void {
    const frame: ClientFrame = { type: "approval", tool_call_id: toolCallId, decision };
    if (extra.args) frame.args = extra.args;
    if (extra.reason) frame.reason = extra.reason;
    this.send(frame);
  }

  dismissNotice(key: string): void {
    this.dispatch({ type: "dismiss_notice", key });
  }

  get running(): boolean {
    return activeRun(this.snapshot.chat) !== null;
  }

  private send(frame: ClientFrame): void {
    this.stream?.send(frame);
  }

  private dispatch(action: ChatAction): void {
    const chat = chatReducer(this.snapshot.chat, action);
    if (chat !== this.snapshot.chat) this.update({ ...this.snapshot, chat });
  }

  private setConnection(connection: ConnectionInfo): void {
    this.update({ ...this.snapshot, connection });
  }

  private update(snapshot: ChatSnapshot): void {
    this.snapshot = snapshot;
    this.listeners.forEach((listener) => listener());
  }

  private async loadHistory(): Promise<void> {
    try {
      const messages: StoredMessage[] = [];
      for (let page = 1; page <= HISTORY_MAX_PAGES; page += 1) {
        const result = await api.get<Page<StoredMessage>>(`/chat/sessions/${this.sessionId}/messages`, {
          page,
          size: HISTORY_PAGE_SIZE,
          include_superseded: true,
        });
        messages.push(...result.items);
        if (page >= result.pages) break;
      }
      this.historyLoaded = true;
      this.dispatch({ type: "history", messages });
      if (this.snapshot.historyError) this.update({ ...this.snapshot, historyError: null });
    } catch (error) {
      this.update({ ...this.snapshot, historyError: error instanceof Error ? error.message : String(error) });
    }
  }

  /** After an answer is stored, fetch history again so new messages carry their server ids. */
  private scheduleHistoryReload(): void {
    if (this.historyReload) clearTimeout(this.historyReload);
    this.historyReload = setTimeout(() => {
      this.historyReload = null;
      void this.loadHistory();
    }, 300);
  }
}

const cache = new Map<string, ChatController>();

/** The controller of a session, creating it (and evicting the oldest idle one) when needed. */
export function chatController(sessionId: string): ChatController {
  let controller = cache.get(sessionId);
  if (controller) {
    cache.delete(sessionId); // re-insert: the Map's order is our recency order
    cache.set(sessionId, controller);
    return controller;
  }
  controller = new ChatController(sessionId);
  cache.set(sessionId, controller);
  for (const [id, old] of cache) {
    if (cache.size <= CACHE_LIMIT) break;
    if (!old.attached) cache.delete(id);
  }
  return controller;
}

/** Forget a session's controller (deleted chat, or sign-out). */
export function dropChatController(sessionId?: string): void {
  const targets = sessionId ? [sessionId] : [...cache.keys()];
  for (const id of targets) {
    cache.get(id)?.detach();
    cache.delete(id);
  }
}

export function useChatSnapshot(controller: ChatController): ChatSnapshot {
  return useSyncExternalStore(controller.subscribe, controller.getSnapshot);
}
