/** The examples in examples/ run as users would run them: `node examples/<name>.mjs`, against the
 * live server, importing the built package by its name. */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { mainUrl, PASSWORD, signedIn } from "./helpers.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

beforeAll(async () => {
  await run("npm", ["run", "build", "--silent"], { cwd: root }); // the examples import dist/ by the package name
}, 120_000);

function env(username: string): NodeJS.ProcessEnv {
  return { ...process.env, SWITCHBOARD_URL: mainUrl(), SWITCHBOARD_USERNAME: username, SWITCHBOARD_PASSWORD: PASSWORD };
}

async function linesOf(child: ChildProcess, wanted: (line: string) => boolean, timeoutMs = 15_000): Promise<string[]> {
  const lines: string[] = [];
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no matching line in: ${lines.join(" | ")}`)), timeoutMs);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      lines.push(...chunk.split("\n").filter(Boolean));
      if (lines.some(wanted)) {
        clearTimeout(timer);
        done(lines);
      }
    });
  });
}

describe("examples", () => {
  it("quickstart streams an answer", async () => {
    const { username } = await signedIn(mainUrl(), "example_quick");
    const { stdout, stderr } = await run("node", ["examples/quickstart.mjs", "what are my open Jira tickets?"], { cwd: root, env: env(username) });
    expect(stderr).toMatch(/\[calling \w*jira\w*\]/);
    expect(stdout).toMatch(/\(stop\)/);
  });

  it("approvals example approves and rejects writes", async () => {
    const { username } = await signedIn(mainUrl(), "example_approve");
    const approved = await run("node", ["examples/approvals.mjs", "create a bug in SB: example approve", "approve"], { cwd: root, env: env(username) });
    expect(approved.stdout).toMatch(/approval asked: .*create_issue/);
    expect(approved.stdout).toMatch(/tool \w+: completed/);
    const rejected = await run("node", ["examples/approvals.mjs", "create a bug in SB: example reject", "reject"], { cwd: root, env: env(username) });
    expect(rejected.stdout).toMatch(/tool \w+: failed/);
  });

  it("webhook receiver verifies real deliveries and refuses forged ones", async () => {
    const { sb } = await signedIn(mainUrl(), "example_hook");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const url = `http://127.0.0.1:${port}/hook`;
    const created = await sb.webhooks.create({ name: "example receiver", url, events: ["integration.*"] });
    const child = spawn("node", ["examples/webhook-receiver.mjs"], { cwd: root, env: { ...process.env, WEBHOOK_SECRET: created.secret, PORT: String(port) } });
    try {
      await linesOf(child, (line) => line.startsWith("listening"));
      const verified = linesOf(child, (line) => line === "verified webhook.test");
      await sb.webhooks.test(created.id);
      await verified;
      const refused = linesOf(child, (line) => line === "refused: invalid_signature");
      const forged = await fetch(url, {
        method: "POST",
        body: '{"event":"webhook.test"}',
        headers: { "X-Switchboard-Timestamp": String(Math.floor(Date.now() / 1000)), "X-Switchboard-Signature": `sha256=${"0".repeat(64)}` },
      });
      expect(forged.status).toBe(401);
      await refused;
    } finally {
      child.kill();
    }
  });
});
