import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { PermissionDeniedError, Switchboard, ValidationError } from "../src/index.js";
import { verifyWebhookSignature } from "../src/node.js";
import { mainUrl, signedIn } from "./helpers.js";

const ADT = [
  "MSH|^~\\&|TSCLIENT|WARD|ADT|HOSP|20260101120000||ADT^A01|TS{n}|P|2.5",
  "EVN|A01|20260101120000",
  "PID|1||TS{n}^^^HOSP^MR||Client^Typescript||19800203|F",
  "PV1|1|I|WARD1^101^1",
].join("\r");

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A webhook receiver on loopback that records every delivery. */
async function receiver(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => server.close() };
}

async function until<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("integrations", () => {
  it("lists types, creates, reads, updates, tests and deletes", async () => {
    const { sb } = await signedIn(mainUrl(), "integrations");
    const types = await sb.integrations.types();
    expect(types.map((t) => t.name)).toEqual(expect.arrayContaining(["jira", "emr", "hl7"]));
    const created = await sb.integrations.create({
      name: "TS feed",
      integration_type: "hl7",
      config: { host: "127.0.0.1", port: 9 },
    });
    expect(created).toMatchObject({ name: "TS feed", visibility: "private", has_credentials: false });
    expect((await sb.integrations.get(created.id)).id).toBe(created.id);
    expect((await sb.integrations.update(created.id, { name: "TS feed 2" })).name).toBe("TS feed 2");
    expect((await sb.integrations.list()).items.map((i) => i.id)).toContain(created.id);
    const result = await sb.integrations.test(created.id);
    expect(result.ok).toBe(false); // nothing listens on port 9: a reason, never an exception
    expect(result.steps?.length).toBeGreaterThan(0);
    await sb.integrations.delete(created.id);
    await expect(sb.integrations.get(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(sb.integrations.create({ name: "", integration_type: "hl7" })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe("API keys", () => {
  it("creates a key that works with its scopes only, updates and revokes it", async () => {
    const { sb } = await signedIn(mainUrl(), "keys");
    const created = await sb.apiKeys.create({ name: "ts key", scopes: ["integrations:read"] });
    expect(created.key).toMatch(/^sb_/);
    const withKey = new Switchboard({ baseUrl: mainUrl(), apiKey: created.key });
    expect(Array.isArray((await withKey.integrations.list()).items)).toBe(true);
    await expect(withKey.chat.listSessions()).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await sb.apiKeys.get(created.id)).name).toBe("ts key");
    expect((await sb.apiKeys.update(created.id, { name: "renamed key" })).name).toBe("renamed key");
    expect((await sb.apiKeys.list()).items.map((k) => k.id)).toContain(created.id);
    await sb.apiKeys.delete(created.id);
    await expect(withKey.integrations.list()).rejects.toMatchObject({ status: 401 });
  });
});

describe("webhooks and events", () => {
  it("creates a webhook, delivers signed events, lists deliveries, updates and deletes", async () => {
    const { sb } = await signedIn(mainUrl(), "hooks");
    const hook = await receiver();
    try {
      const created = await sb.webhooks.create({ name: "ts hook", url: hook.url, events: ["integration.*"] });
      expect(created.secret).toBeTruthy();
      await sb.integrations.create({ name: "Hooked feed", integration_type: "hl7", config: { host: "127.0.0.1", port: 9 } });
      const delivery = await until(() => hook.received.find((r) => r.headers["x-switchboard-event"] === "integration.created"));
      await verifyWebhookSignature({
        secret: created.secret,
        body: delivery.body,
        signature: String(delivery.headers["x-switchboard-signature"]),
        timestamp: String(delivery.headers["x-switchboard-timestamp"]),
      });
      const tested = await sb.webhooks.test(created.id);
      expect(tested.event).toBe("webhook.test");
      const deliveries = await sb.webhooks.deliveries(created.id);
      expect(deliveries.items.map((d) => d.event)).toEqual(expect.arrayContaining(["integration.created"]));
      expect((await sb.webhooks.update(created.id, { is_active: false })).is_active).toBe(false);
      expect((await sb.webhooks.get(created.id)).id).toBe(created.id);
      expect((await sb.webhooks.list()).total).toBeGreaterThanOrEqual(1);
      await sb.webhooks.delete(created.id);
      await expect(sb.webhooks.get(created.id)).rejects.toMatchObject({ status: 404 });
    } finally {
      hook.close();
    }
  });

  it("streams subscribed events over the events socket", async () => {
    const { sb } = await signedIn(mainUrl(), "events");
    const subscription = await sb.events.subscribe(["integration.*"]);
    const iterator = subscription[Symbol.asyncIterator]();
    await sb.integrations.create({ name: "Evented feed", integration_type: "hl7", config: { host: "127.0.0.1", port: 9 } });
    const next = await iterator.next();
    expect(next.value?.event).toBe("integration.created");
    subscription.close();
  });
});

describe("HL7 messages", () => {
  it("sends a message to a destination, reads its state and lists it", async () => {
    const { sb } = await signedIn(mainUrl(), "hl7");
    const control = `TS${Date.now() % 100000}`;
    const accepted = await sb.messages.send(ADT.replaceAll("TS{n}", control), { destination: ["Demo HL7 receiver"] });
    expect(accepted.status).toBe("accepted");
    const deadline = Date.now() + 15_000;
    let message = await sb.messages.get(accepted.message_id);
    while (message.destinations.some((d) => d.status !== "delivered") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      message = await sb.messages.get(accepted.message_id);
    }
    expect(message.control_id).toBe(control);
    expect(message.destinations[0]).toMatchObject({ status: "delivered", ack_code: "AA" });
    const page = await sb.messages.list({ control_id: control });
    expect(page.items.map((m) => m.message_id)).toEqual([accepted.message_id]);
    await expect(sb.messages.send("not hl7 at all", { destination: ["Demo HL7 receiver"] })).rejects.toMatchObject({ status: 400 });
  });
});
