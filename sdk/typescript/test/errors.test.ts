/** The error classes a live server cannot be made to produce on demand: 5xx and unreachable. */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { ConnectionError, ServerError, Switchboard } from "../src/index.js";

it("maps a 5xx to ServerError with its code and request id, without retrying it", async () => {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits += 1;
    response.writeHead(503, { "Content-Type": "application/json", "X-Request-ID": "req-123" });
    response.end(JSON.stringify({ detail: "database unavailable", code: "service_unavailable" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const sb = new Switchboard({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: "t" });
    const error = await sb.auth.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, code: "service_unavailable", requestId: "req-123", detail: "database unavailable" });
    expect(hits).toBe(1);
  } finally {
    server.close();
  }
});

it("reports an unreachable server as ConnectionError after its retries", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve)); // nothing listens there now
  const sb = new Switchboard({ baseUrl: `http://127.0.0.1:${port}`, token: "t", maxRetries: 1 });
  const error = await sb.chat.createSession("hi").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionError);
  expect(error).toMatchObject({ code: "connection_error" });
});
