/**
 * `ChatStream`: one session's turn as an async iterable of typed frames, over WebSocket or SSE, with
 * approvals, cancel, and reconnect + resume by `seq` built in. Iteration ends after the turn's
 * `final` (or at an `approval_required` left unanswered: decide, then iterate again).
 */

import {
  AuthenticationError,
  ConnectionError,
  NotFoundError,
  PermissionDeniedError,
  StreamError,
  SwitchboardError,
} from "./errors.js";
import type { HttpCore } from "./http.js";
import { type ApprovalRequiredFrame, CloseCode, type Decision, type FinalFrame, parseServerFrame, type ServerFrame } from "./protocol.js";
import { type ServerSentEvent, readServerSentEvents } from "./sse.js";
import { canSendHeaders, type Closed, FrameSocket, socketUrl } from "./socket.js";
import { TurnTracker } from "./tracker.js";
import type { JsonObject } from "./types.js";

export type Transport = "ws" | "sse";

export interface StreamOptions {
  /** Start a turn with this message; without it the stream answers the session's pending first
   * message, or follows the turn that is running. */
  message?: string | undefined;
  metadata?: JsonObject | undefined;
  /** Replay the frames after this seq first (what a client that dropped saw last). */
  afterSeq?: number | undefined;
  transport?: Transport | undefined;
  /** Give up when no frame arrives for this long (default 120 s). */
  idleTimeoutMs?: number | undefined;
  /** Reconnect and resume after a dropped connection, this many times (default 5; 0 = never). */
  maxReconnects?: number | undefined;
}

export interface ApprovalAnswer {
  decision: Decision;
  /** With `edit`: the changed arguments. */
  args?: Record<string, unknown> | undefined;
  /** With `reject`: why, told to the model. */
  message?: string | undefined;
}

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES = new Set<number>([CloseCode.unauthenticated, CloseCode.forbidden, CloseCode.notFound, 1008]);

export function closeError(closed: Closed): SwitchboardError {
  const init = { code: "stream_closed", detail: closed.reason };
  if (closed.code === CloseCode.unauthenticated) return new AuthenticationError(closed.reason || "authentication required", { ...init, status: 401, code: "not_authenticated" });
  if (closed.code === CloseCode.forbidden) return new PermissionDeniedError(closed.reason || "forbidden", { ...init, status: 403, code: "forbidden" });
  if (closed.code === CloseCode.notFound) return new NotFoundError(closed.reason || "unknown session", { ...init, status: 404, code: "not_found" });
  return new StreamError(`the stream closed (${closed.code})${closed.reason ? `: ${closed.reason}` : ""}`, init);
}

export class ChatStream implements AsyncIterable<ServerFrame> {
  readonly sessionId: string;
  readonly transport: Transport;
  readonly tracker = new TurnTracker();
  private readonly idleTimeoutMs: number;
  private readonly maxReconnects: number;
  private reconnects = 0;
  private socket: FrameSocket | null = null;
  private backlog: ServerFrame[] = [];
  private sse: AsyncGenerator<ServerSentEvent> | null = null;
  private sseAbort: AbortController | null = null;
  private nextSse: (() => Promise<Response>) | null = null;
  private started: Promise<void> | null = null;

  constructor(
    private readonly core: HttpCore,
    sessionId: string,
    private readonly options: StreamOptions = {},
  ) {
    this.sessionId = sessionId;
    this.transport = options.transport ?? "ws";
    if (this.transport !== "ws" && this.transport !== "sse") throw new TypeError("transport must be 'ws' or 'sse'");
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.maxReconnects = options.maxReconnects ?? 5;
    if (options.afterSeq !== undefined) this.tracker.lastSeq = options.afterSeq;
  }

  /** The seq of the last turn frame received: what a resume continues after. */
  get lastSeq(): number {
    return this.tracker.lastSeq;
  }

  /** The turn's `final` once it arrived. */
  get final(): FinalFrame | null {
    return this.tracker.final;
  }

  /** The `approval_required` waiting for a decision, if any. */
  get pendingApproval(): ApprovalRequiredFrame | null {
    return this.tracker.pendingApproval;
  }

  // ------------------------------------------------------------------ commands

  /** Answer an approval: approve, edit (with `args`) or reject (with an optional `message`). */
  async approve(toolCallId: string | undefined, answer: ApprovalAnswer = { decision: "approve" }): Promise<void> {
    await this.start();
    const frame = this.tracker.approvalFrame(answer.decision, toolCallId, answer.args, answer.message);
    if (this.transport === "ws") {
      await this.ensureSocket();
      this.socketOrThrow().send(frame);
    } else {
      await this.control(frame);
      this.nextSse = () => this.follow(this.tracker.lastSeq);
    }
    this.tracker.sentTurn();
  }

  /** Stop the running turn; its partial answer is kept and it ends with `finish_reason: "cancelled"`. */
  async cancel(): Promise<void> {
    await this.start();
    if (this.transport === "ws") this.socketOrThrow().send({ type: "cancel" });
    else await this.control({ type: "cancel" });
  }

  /** Close the connection (a running turn goes on on the server; a new stream with `afterSeq` resumes). */
  close(): void {
    this.socket?.close();
    this.socket = null;
    this.sseAbort?.abort();
    this.sse = null;
  }

  // ------------------------------------------------------------------ iteration

  async *[Symbol.asyncIterator](): AsyncIterator<ServerFrame> {
    try {
      await this.start();
      for (;;) {
        const frame = await this.nextFrame();
        if (frame === null) return;
        yield frame;
      }
    } finally {
      if (this.tracker.idle) this.close();
    }
  }

  private start(): Promise<void> {
    this.started ??= this.open();
    return this.started;
  }

  private async open(): Promise<void> {
    const { message, metadata } = this.options;
    if (this.transport === "ws") {
      await this.ensureSocket();
      if (message !== undefined) {
        this.tracker.sentTurn();
        this.socketOrThrow().send({ type: "message", message, metadata: metadata ?? {} });
      } else {
        this.probe();
      }
      return;
    }
    if (message !== undefined) {
      this.tracker.sentTurn();
      this.nextSse = () =>
        this.core.send("POST", `/chat/sessions/${encodeURIComponent(this.sessionId)}/messages/stream`, {
          body: { message, metadata: metadata ?? {} },
          headers: { Accept: "text/event-stream" },
          signal: this.abortSignal(),
        });
    } else {
      this.tracker.expecting = true; // the follow stream answers or replays; it ends when nothing runs
      this.nextSse = () => this.follow(this.options.afterSeq);
    }
  }

  private async nextFrame(): Promise<ServerFrame | null> {
    for (;;) {
      const queued = this.backlog.shift();
      if (queued) return queued;
      const frame = this.transport === "ws" ? await this.nextWs() : await this.nextSseFrame();
      if (frame === null) return null;
      if (this.tracker.isDuplicate(frame)) continue;
      if (this.tracker.observe(frame)) return frame;
    }
  }

  private async nextWs(): Promise<ServerFrame | null> {
    for (;;) {
      if (this.tracker.needsStatusCheck) {
        const session = await this.core.request<{ status: string }>("GET", `/chat/sessions/${encodeURIComponent(this.sessionId)}`);
        this.tracker.statusChecked(session.status);
      }
      if (this.tracker.idle) return null;
      const socket = this.socketOrThrow();
      const received = await socket.next(this.idleTimeoutMs);
      if (typeof received === "string") {
        const frame = parseServerFrame(received);
        if (frame) return frame;
        continue; // malformed or unknown: dropped, never trusted
      }
      this.socket = null;
      if (FINAL_CLOSE_CODES.has(received.code) || this.reconnects >= this.maxReconnects) throw closeError(received);
      await this.reconnect();
    }
  }

  /** Reconnect with `after_seq` = the last frame seen: the server replays what was missed, once. */
  private async reconnect(): Promise<void> {
    this.reconnects += 1;
    await new Promise((resolve) => setTimeout(resolve, Math.min(4000, 100 * 2 ** (this.reconnects - 1))));
    await this.ensureSocket(this.tracker.lastSeq);
    this.probe();
  }

  private async nextSseFrame(): Promise<ServerFrame | null> {
    for (;;) {
      if (this.sse === null) {
        const opener = this.nextSse;
        if (opener === null) {
          if (this.tracker.idle || this.tracker.pendingApproval) return null;
          this.nextSse = () => this.follow(this.tracker.lastSeq); // the turn goes on: follow it
          continue;
        }
        this.nextSse = null;
        this.sse = readServerSentEvents(await opener());
      }
      let result: IteratorResult<ServerSentEvent>;
      try {
        result = await this.sse.next();
      } catch (error) {
        this.sse = null;
        if (this.reconnects >= this.maxReconnects) throw new ConnectionError(`the event stream broke: ${String(error)}`, { code: "stream_closed" });
        this.reconnects += 1;
        this.nextSse = () => this.follow(this.tracker.lastSeq);
        continue;
      }
      if (result.done) {
        this.sse = null;
        if (this.tracker.openRuns.size === 0) this.tracker.expecting = false; // the server said all it had
        if (this.nextSse === null && (this.tracker.idle || this.tracker.pendingApproval)) return null;
        continue;
      }
      const frame = parseServerFrame(result.value.data);
      if (frame) return frame;
    }
  }

  // ------------------------------------------------------------------ plumbing

  private abortSignal(): AbortSignal {
    this.sseAbort = new AbortController();
    return this.sseAbort.signal;
  }

  private follow(afterSeq: number | undefined): Promise<Response> {
    return this.core.send("GET", `/chat/sessions/${encodeURIComponent(this.sessionId)}/stream`, {
      query: { after_seq: afterSeq },
      headers: { Accept: "text/event-stream" },
      signal: this.abortSignal(),
    });
  }

  private socketOrThrow(): FrameSocket {
    if (this.socket === null) throw new StreamError("the stream is closed", { code: "stream_closed" });
    return this.socket;
  }

  private async ensureSocket(afterSeq: number | undefined = this.options.afterSeq): Promise<void> {
    if (this.socket !== null) return;
    const query = afterSeq !== undefined ? `?after_seq=${afterSeq}` : "";
    this.socket = await connectChatSocket(this.core, this.sessionId, query);
    const first = await this.socket.next(this.idleTimeoutMs);
    if (typeof first !== "string") {
      this.socket = null;
      throw closeError(first);
    }
    const frame = parseServerFrame(first);
    if (frame) {
      this.tracker.observe(frame);
      this.backlog.push(frame);
    }
  }

  private probe(): void {
    this.tracker.probing = true;
    this.socketOrThrow().send({ type: "ping" });
  }

  /** SSE has no upstream: send a control frame on a short-lived socket and wait for its answer. */
  private async control(frame: Record<string, unknown>): Promise<void> {
    const socket = await connectChatSocket(this.core, this.sessionId, "");
    try {
      socket.send(frame);
      socket.send({ type: "ping" });
      for (;;) {
        const received = await socket.next(this.idleTimeoutMs);
        if (typeof received !== "string") throw closeError(received);
        const reply = parseServerFrame(received);
        if (reply?.type === "error" && !reply.run_id) {
          throw new StreamError(reply.content || reply.metadata.code, { code: reply.metadata.code });
        }
        if (reply?.type === "pong") return;
      }
    } finally {
      socket.close();
    }
  }
}

/** A chat socket for a session, authenticated in headers (Node) or by the first frame (browsers). */
export async function connectChatSocket(core: HttpCore, sessionId: string, query: string): Promise<FrameSocket> {
  const url = socketUrl(core.url(`/chat/ws/${encodeURIComponent(sessionId)}`)) + query;
  const { apiKey, token } = await core.credentials();
  if (canSendHeaders) {
    const headers: Record<string, string> = apiKey ? { "X-API-Key": apiKey } : token ? { Authorization: `Bearer ${token}` } : {};
    return FrameSocket.open(url, headers);
  }
  if (apiKey) throw new StreamError("API keys cannot authenticate a browser WebSocket; sign in instead", { code: "unsupported" });
  const socket = await FrameSocket.open(url);
  if (token) socket.send({ type: "auth", token });
  return socket;
}
