/** `WS /events/ws`: live platform events (`hl7.*`, `integration.*`, ...) as an async iterable. */

import { StreamError } from "./errors.js";
import type { HttpCore } from "./http.js";
import { type EventFrame, parseEventFrame } from "./protocol.js";
import { canSendHeaders, FrameSocket, socketUrl } from "./socket.js";
import { closeError } from "./stream.js";

/** Control frames of the socket itself, not events. */
const CONTROL_EVENTS = new Set(["connection.established", "subscribed", "unsubscribed", "pong"]);

export interface Subscription extends AsyncIterable<EventFrame> {
  close(): void;
}

export class Events {
  constructor(private readonly core: HttpCore) {}

  /** Subscribe to events matching `patterns` (`"hl7.*"`, `"*"`); iterate until `close()`. */
  async subscribe(patterns: string[]): Promise<Subscription> {
    const url = socketUrl(this.core.url("/events/ws"));
    const { apiKey, token } = await this.core.credentials();
    let socket: FrameSocket;
    if (canSendHeaders) {
      socket = await FrameSocket.open(url, apiKey ? { "X-API-Key": apiKey } : token ? { Authorization: `Bearer ${token}` } : {});
    } else {
      socket = await FrameSocket.open(url);
      socket.send(apiKey ? { action: "auth", api_key: apiKey } : { action: "auth", token });
    }
    await expect(socket, "connection.established");
    socket.send({ action: "subscribe", events: patterns });
    await expect(socket, "subscribed");
    return {
      close: () => socket.close(),
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const received = await socket.next(24 * 3600 * 1000);
          if (typeof received !== "string") {
            if (received.code === 1000 || received.code === 1005) return; // closed by us
            throw closeError(received);
          }
          const frame = parseEventFrame(received);
          if (frame && !CONTROL_EVENTS.has(frame.event)) yield frame;
        }
      },
    };
  }
}

async function expect(socket: FrameSocket, event: string): Promise<void> {
  const received = await socket.next(10_000);
  if (typeof received !== "string") throw closeError(received);
  const frame = parseEventFrame(received);
  if (frame?.event === "error") {
    const data = frame.data as { code?: string; detail?: string };
    throw new StreamError(data.detail ?? "the events socket refused the request", { code: data.code ?? "events_error" });
  }
  if (frame?.event !== event) throw new StreamError(`expected ${event}, got ${frame?.event ?? "nothing"}`, { code: "protocol_error" });
}
