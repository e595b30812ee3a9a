/**
 * A WebSocket as an awaitable queue of text frames, on the platform's `WebSocket` (browsers) or the
 * `ws` package (Node 20, which has no stable global one and where headers can carry credentials).
 */

import { StreamError } from "./errors.js";

export interface Closed {
  closed: true;
  code: number;
  reason: string;
}

interface MinimalSocket {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: never) => void): void;
}

type SocketFactory = (url: string, headers: Record<string, string>) => Promise<MinimalSocket>;

const OPEN = 1;
const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

async function nodeSocket(url: string, headers: Record<string, string>): Promise<MinimalSocket> {
  const name = "ws"; // a variable specifier: browser bundlers leave the Node-only import alone
  const { default: WebSocketImpl } = (await import(/* @vite-ignore */ name)) as {
    default: new (url: string, options: { headers: Record<string, string> }) => MinimalSocket;
  };
  return new WebSocketImpl(url, { headers });
}

async function platformSocket(url: string): Promise<MinimalSocket> {
  return new globalThis.WebSocket(url) as unknown as MinimalSocket;
}

/** Where headers can be sent (Node), credentials go in them; elsewhere in the first frame. */
export const canSendHeaders = isNode;
const defaultFactory: SocketFactory = (url, headers) => (isNode ? nodeSocket(url, headers) : platformSocket(url));

export class FrameSocket {
  private readonly frames: string[] = [];
  private readonly waiters: ((value: string | Closed) => void)[] = [];
  private closedWith: Closed | null = null;

  private constructor(private readonly socket: MinimalSocket) {
    socket.addEventListener("message", (event: { data: unknown }) => {
      const text = typeof event.data === "string" ? event.data : String(event.data);
      const waiter = this.waiters.shift();
      if (waiter) waiter(text);
      else this.frames.push(text);
    });
    socket.addEventListener("close", (event: { code: number; reason: string }) => {
      this.closedWith = { closed: true, code: event.code, reason: String(event.reason ?? "") };
      for (const waiter of this.waiters.splice(0)) waiter(this.closedWith);
    });
  }

  /** Connect; resolves once open (rejects when the connection fails before opening). */
  static async open(
    url: string,
    headers: Record<string, string> = {},
    factory: SocketFactory = defaultFactory,
  ): Promise<FrameSocket> {
    const socket = await factory(url, headers);
    const frameSocket = new FrameSocket(socket);
    if (socket.readyState === OPEN) return frameSocket;
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("error", () => reject(new StreamError(`could not connect to ${url}`, { code: "connection_error" })));
      socket.addEventListener("close", (event: { code: number; reason: string }) =>
        reject(new StreamError(`the socket closed while connecting (${event.code})`, { code: "stream_closed" })),
      );
    });
    return frameSocket;
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  send(frame: unknown): void {
    if (this.closedWith || this.socket.readyState !== OPEN) {
      throw new StreamError("the stream's socket is closed", { code: "stream_closed" });
    }
    this.socket.send(JSON.stringify(frame));
  }

  /** The next text frame, or how the socket closed; rejects after `timeoutMs` without a frame. */
  next(timeoutMs: number): Promise<string | Closed> {
    const ready = this.frames.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closedWith) return Promise.resolve(this.closedWith);
    return new Promise((resolve, reject) => {
      const waiter = (value: string | Closed) => {
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new StreamError(`no frame for ${timeoutMs / 1000} s`, { code: "stream_timeout" }));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(code = 1000): void {
    if (!this.closedWith) this.socket.close(code);
  }
}

/** The ws:// or wss:// URL for an http(s) base URL and an API path. */
export function socketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}
