/**
 * The one chat stream client: a WebSocket to /api/v1/chat/ws/{session} that authenticates, sends
 * client frames, tracks the last seq it saw, reconnects with exponential back-off, resumes with
 * `after_seq`, drops frames it has already seen and keeps the connection alive with ping/pong.
 */

import { CloseCode, parseServerFrame, type ClientFrame, type ServerFrame } from "./protocol";

/** The part of the browser WebSocket this client uses, so tests can inject a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => WebSocketLike;

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export type StreamEvent =
  | { type: "frame"; frame: ServerFrame }
  | { type: "state"; state: ConnectionState; attempt: number; retryInMs: number | null }
  /** The server refused us for good (4403, 4404, or authentication that could not be renewed). */
  | { type: "fatal"; code: number; reason: string };

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay randomised either way, so many clients do not reconnect in lockstep. */
  jitter: number;
}

export interface StreamOptions {
  sessionId: string;
  getToken: () => Promise<string | null>;
  /** Renew the access token after a 4401 close; resolve false when the user must sign in again. */
  refreshAuth: () => Promise<boolean>;
  socketFactory?: SocketFactory;
  /** Builds the socket URL; defaults to the page's own host. */
  baseUrl?: string;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

const OPEN = 1;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };
/** Frames addressed to one connection: their seq may exceed replayed frames', so they never move lastSeq. */
const CONNECTION_ONLY = new Set(["connection_established", "pong"]);
const MAX_QUEUED_FRAMES = 50;

/** Delay before reconnect attempt `attempt` (0-based): initial·factor^attempt, capped, with jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** attempt);
  const spread = base * options.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

function defaultBaseUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}`;
}

export class ChatStream {
  private socket: WebSocketLike | null = null;
  private listeners = new Set<(event: StreamEvent) => void>();
  private attempt = 0;
  private authRetried = false;
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private queue: ClientFrame[] = [];
  private readonly backoff: BackoffOptions;
  private _lastSeq = 0;
  private _state: ConnectionState = "idle";

  constructor(private readonly options: StreamOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  }

  /** The highest seq delivered so far (what a resume asks to continue after). */
  get lastSeq(): number {
    return this._lastSeq;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Subscribe to frames and state changes; returns the unsubscribe function. */
  subscribe(listener: (event: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Open the stream, replaying what came after `afterSeq` (0 = everything stored). */
  start(afterSeq: number): void {
    this._lastSeq = Math.max(this._lastSeq, afterSeq);
    this.stopped = false;
    this.attempt = 0;
    void this.open();
  }

  /** Close for good (leaving the chat); no reconnect. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      this.detach(socket);
      socket.close(1000, "client closed");
    }
    this.queue = [];
    this.setState("closed");
  }

  /** Send a frame now, or when the connection is back (pings are never queued). */
  send(frame: ClientFrame): void {
    if (this.socket && this.socket.readyState === OPEN && this._state === "open") {
      this.socket.send(JSON.stringify(frame));
    } else if (frame.type !== "ping" && frame.type !== "resume" && this.queue.length < MAX_QUEUED_FRAMES) {
      this.queue.push(frame);
    }
  }

  /** Ask the server to replay what came after the last seen frame, on the current connection. */
  resume(): void {
    this.send({ type: "resume", after_seq: this._lastSeq });
  }

  /** Skip the back-off wait (the browser says the network is back). */
  reconnectNow(): void {
    if (this.stopped || this._state !== "reconnecting") return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.open();
  }

  private emit(event: StreamEvent): void {
    this.listeners.forEach((listener) => listener(event));
  }

  private setState(state: ConnectionState, retryInMs: number | null = null): void {
    this._state = state;
    this.emit({ type: "state", state, attempt: this.attempt, retryInMs });
  }

  private async open(): Promise<void> {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    const token = await this.options.getToken();
    if (this.stopped) return;
    if (!token) {
      this.fail(CloseCode.unauthenticated, "not signed in");
      return;
    }
    const params = new URLSearchParams({ token, after_seq: String(this._lastSeq) });
    const base = this.options.baseUrl ?? defaultBaseUrl();
    const url = `${base}/api/v1/chat/ws/${encodeURIComponent(this.options.sessionId)}?${params.toString()}`;
    const factory = this.options.socketFactory ?? ((target: string) => new WebSocket(target) as WebSocketLike);
    let socket: WebSocketLike;
    try {
      socket = factory(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.onOpen();
    socket.onmessage = (event) => this.onMessage(event.data);
    socket.onclose = (event) => this.onClose(socket, event.code, event.reason);
    socket.onerror = () => {
      // A close event always follows an error; reconnecting is handled there.
    };
  }

  private onOpen(): void {
    this.setState("open");
    this.startPing();
    const pending = this.queue;
    this.queue = [];
    pending.forEach((frame) => this.send(frame));
  }

  private onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    this.clearPongTimer(); // any frame proves the connection is alive
    const frame = parseServerFrame(data);
    if (!frame) return;
    if (CONNECTION_ONLY.has(frame.type) || (frame.type === "error" && !frame.run_id)) {
      if (frame.type === "connection_established") {
        // The server accepted us: the next drop starts the back-off afresh.
        this.attempt = 0;
        this.authRetried = false;
      }
    } else {
      if (frame.seq <= this._lastSeq) return; // already seen (a replay overlapping live frames)
      this._lastSeq = frame.seq;
    }
    this.emit({ type: "frame", frame });
  }

  private onClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return; // an old socket we already replaced
    this.detach(socket);
    this.socket = null;
    this.clearTimers();
    if (this.stopped) return;
    if (code === CloseCode.forbidden || code === CloseCode.notFound) {
      this.fail(code, reason || (code === CloseCode.notFound ? "unknown session" : "not your session"));
      return;
    }
    if (code === CloseCode.unauthenticated) {
      if (this.authRetried) {
        this.fail(code, reason || "authentication required");
        return;
      }
      this.authRetried = true;
      void this.options.refreshAuth().then((renewed) => {
        if (this.stopped) return;
        if (renewed) void this.open();
        else this.fail(code, "Your session has expired; please sign in again.");
      });
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt, this.backoff, this.options.random);
    this.attempt += 1;
    this.setState("reconnecting", delay);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) void this.open();
    }, delay);
  }

  private fail(code: number, reason: string): void {
    this.stopped = true;
    this.clearTimers();
    this.setState("closed");
    this.emit({ type: "fatal", code, reason });
  }

  private startPing(): void {
    const interval = this.options.pingIntervalMs ?? 25_000;
    const timeout = this.options.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      if (!this.socket || this.socket.readyState !== OPEN) return;
      this.socket.send(JSON.stringify({ type: "ping" }));
      if (this.pongTimer === null) {
        // No answer in time: the connection is dead even if the browser has not noticed.
        this.pongTimer = setTimeout(() => {
          this.pongTimer = null;
          const socket = this.socket;
          if (socket) {
            socket.close(4000, "ping timeout");
            this.onClose(socket, 4000, "ping timeout");
          }
        }, timeout);
      }
    }, interval);
  }

  private clearPongTimer(): void {
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.clearPongTimer();
  }

  private detach(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
  }
}
