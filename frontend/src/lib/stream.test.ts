import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, ChatStream, type StreamEvent, type WebSocketLike } from "./stream";
import type { ServerFrame } from "./protocol";
import { final, frame, token } from "../test/frames";

/** A scriptable stand-in for the browser WebSocket: the test plays the server. */
class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  serverOpen(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSend(f: ServerFrame | string): void {
    this.onmessage?.({ data: typeof f === "string" ? f : JSON.stringify(f) });
  }

  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const latest = (): FakeSocket => {
  const socket = FakeSocket.instances.at(-1);
  if (!socket) throw new Error("no socket opened");
  return socket;
};

function makeStream(overrides: Partial<ConstructorParameters<typeof ChatStream>[0]> = {}) {
  const events: StreamEvent[] = [];
  const stream = new ChatStream({
    sessionId: "s1",
    baseUrl: "ws://switchboard.test",
    getToken: async () => "jwt-1",
    refreshAuth: async () => true,
    socketFactory: (url) => new FakeSocket(url),
    backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
    pingIntervalMs: 1000,
    pongTimeoutMs: 500,
    ...overrides,
  });
  stream.subscribe((event) => events.push(event));
  const frames = () => events.flatMap((e) => (e.type === "frame" ? [e.frame] : []));
  const states = () => events.flatMap((e) => (e.type === "state" ? [e.state] : []));
  return { stream, events, frames, states };
}

/** Let the token promise and the socket factory run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with jitter inside the spread", () => {
    const options = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, options, () => 0.5))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffDelay(0, options, () => 0)).toBe(400);
    expect(backoffDelay(0, options, () => 1)).toBe(600);
  });
});

describe("ChatStream", () => {
  it("connects with the token and after_seq, and emits frames", async () => {
    const { stream, frames, states } = makeStream();
    stream.start(0);
    await settle();
    const socket = latest();
    expect(socket.url.startsWith("ws://switchboard.test/api/v1/chat/ws/s1?")).toBe(true);
    expect(socket.query.get("token")).toBe("jwt-1");
    expect(socket.query.get("after_seq")).toBe("0");
    socket.serverOpen();
    socket.serverSend(frame("connection_established", 1, "", "connected", { session_id: "s1" }));
    socket.serverSend(token(2, "r1", "Hi"));
    expect(frames().map((f) => f.type)).toEqual(["connection_established", "token"]);
    expect(stream.lastSeq).toBe(2);
    expect(states()).toEqual(["connecting", "open"]);
  });

  it("drops frames whose seq it has already delivered, and malformed frames", async () => {
    const { stream, frames } = makeStream();
    stream.start(0);
    await settle();
    const socket = latest();
    socket.serverOpen();
    socket.serverSend(token(5, "r1", "a"));
    socket.serverSend(token(5, "r1", "a"));
    socket.serverSend(token(4, "r1", "old"));
    socket.serverSend("not json");
    socket.serverSend(JSON.stringify({ type: "token", content: "no seq" }));
    socket.serverSend(token(6, "r1", "b"));
    expect(frames().map((f) => f.seq)).toEqual([5, 6]);
  });

  it("lets connection-only frames through without moving lastSeq past replayed ones", async () => {
    const { stream, frames } = makeStream();
    stream.start(3);
    await settle();
    const socket = latest();
    socket.serverOpen();
    // The server numbers connection_established before replaying what was missed.
    socket.serverSend(frame("connection_established", 10, ""));
    socket.serverSend(token(4, "r1", "x"));
    socket.serverSend(final(9, "r1", "x!"));
    expect(frames().map((f) => f.seq)).toEqual([10, 4, 9]);
    expect(stream.lastSeq).toBe(9);
  });

  it("reconnects with exponential back-off and resumes after the last seq", async () => {
    const { stream, events } = makeStream();
    stream.start(0);
    await settle();
    latest().serverOpen();
    latest().serverSend(token(7, "r1", "a"));
    latest().serverClose(1006);
    const delays = () => events.flatMap((e) => (e.type === "state" && e.retryInMs !== null ? [e.retryInMs] : []));
    expect(delays()).toEqual([100]);
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(latest().query.get("after_seq")).toBe("7");
    latest().serverClose(1006); // fails again before opening
    expect(delays()).toEqual([100, 200]);
    await vi.advanceTimersByTimeAsync(200);
    latest().serverClose(1006);
    expect(delays()).toEqual([100, 200, 400]);
    await vi.advanceTimersByTimeAsync(400);
    // Accepted: the next drop starts from the initial delay again.
    latest().serverOpen();
    latest().serverSend(frame("connection_established", 8, ""));
    latest().serverClose(1006);
    expect(delays()).toEqual([100, 200, 400, 100]);
    stream.stop();
  });

  it("caps the back-off delay", async () => {
    const { stream, events } = makeStream();
    stream.start(0);
    for (let i = 0; i < 6; i += 1) {
      await settle();
      latest().serverClose(1006);
      await vi.advanceTimersByTimeAsync(1000);
    }
    const delays = events.flatMap((e) => (e.type === "state" && e.retryInMs !== null ? [e.retryInMs] : []));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    stream.stop();
  });

  it("sends a resume frame with after_seq on request", async () => {
    const { stream } = makeStream();
    stream.start(0);
    await settle();
    latest().serverOpen();
    latest().serverSend(token(12, "r1", "a"));
    stream.resume();
    expect(latest().sent).toEqual([{ type: "resume", after_seq: 12 }]);
  });

  it("queues frames sent while disconnected and flushes them on open", async () => {
    const { stream } = makeStream();
    stream.start(0);
    stream.send({ type: "message", message: "hello" });
    stream.send({ type: "ping" });
    await settle();
    latest().serverOpen();
    expect(latest().sent).toEqual([{ type: "message", message: "hello" }]);
  });

  it("pings on an interval and reconnects when no pong comes back", async () => {
    const { stream, states } = makeStream();
    stream.start(0);
    await settle();
    const first = latest();
    first.serverOpen();
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toEqual([{ type: "ping" }]);
    first.serverSend(frame("pong", 3, ""));
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toHaveLength(2);
    expect(FakeSocket.instances).toHaveLength(1); // the pong kept it alive
    await vi.advanceTimersByTimeAsync(500); // no pong for the second ping
    expect(first.closedWith).toBe(4000);
    expect(states().at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.instances).toHaveLength(2);
    stream.stop();
  });

  it("refreshes the token after a 4401 close and reconnects with the new one", async () => {
    let current = "expired";
    const refreshAuth = vi.fn(async () => {
      current = "renewed";
      return true;
    });
    const { stream } = makeStream({ getToken: async () => current, refreshAuth });
    stream.start(0);
    await settle();
    latest().serverOpen();
    latest().serverClose(4401, "authentication required");
    await settle();
    expect(refreshAuth).toHaveBeenCalledTimes(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(latest().query.get("token")).toBe("renewed");
  });

  it("gives up with a fatal event when the refresh is refused or the session is not ours", async () => {
    const refused = makeStream({ refreshAuth: async () => false });
    refused.stream.start(0);
    await settle();
    latest().serverClose(4401);
    await settle();
    expect(refused.events.at(-1)).toMatchObject({ type: "fatal", code: 4401 });

    FakeSocket.instances = [];
    const forbidden = makeStream();
    forbidden.stream.start(0);
    await settle();
    latest().serverClose(4404, "unknown session");
    await vi.advanceTimersByTimeAsync(5000);
    expect(forbidden.events.at(-1)).toEqual({ type: "fatal", code: 4404, reason: "unknown session" });
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("does not reconnect after stop", async () => {
    const { stream, states } = makeStream();
    stream.start(0);
    await settle();
    const socket = latest();
    socket.serverOpen();
    stream.stop();
    expect(socket.closedWith).toBe(1000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(states().at(-1)).toBe("closed");
  });
});
