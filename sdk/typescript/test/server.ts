/**
 * Global set-up: two real `switchboard serve` processes on loopback (offline model, demo sandboxes,
 * SQLite in a temporary folder). `main` streams at full speed; `slow` paces tokens (cancel, resume)
 * and has a tight per-second rate limit (429 retries).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    mainUrl: string;
    slowUrl: string;
  }
}

const repo = resolve(import.meta.dirname, "../../..");
const python = process.env.SWITCHBOARD_PYTHON ?? join(repo, ".venv/bin/python");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

async function start(name: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `sb-ts-${name}-`));
  const child = spawn(python, ["-m", "backend.cli", "serve", "--port", String(port), "--migrate"], {
    cwd: repo,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !["DATABASE_URL", "REDIS_URL", "LLM_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"].includes(key))),
      DATABASE_URL: `sqlite+aiosqlite:///${join(dir, "test.db")}`,
      DATA_DIR: dir,
      SECRET_KEY: "typescript-client-tests-" + "x".repeat(40),
      ENVIRONMENT: "development",
      DEMO_MODE: "true",
      LOG_LEVEL: "WARNING",
      OUTBOUND_ALLOWLIST: "127.0.0.1",
      WEBHOOK_POLL_INTERVAL_S: "0.1",
      RATE_LIMIT_AUTH: "100000/minute",
      RATE_LIMIT_CHAT: "100000/minute",
      RATE_LIMIT_DEFAULT: "100000/minute",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`switchboard serve (${name}) exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child, dir };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`switchboard serve (${name}) did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [main, slow] = await Promise.all([
    start("main", {}),
    start("slow", { OFFLINE_TOKEN_DELAY_MS: "10", RATE_LIMIT_DEFAULT: "4/second" }),
  ]);
  project.provide("mainUrl", main.url);
  project.provide("slowUrl", slow.url);
  return async () => {
    for (const server of [main, slow]) {
      server.child.kill("SIGTERM");
      await new Promise((r) => server.child.once("exit", r));
      rmSync(server.dir, { recursive: true, force: true });
    }
  };
}
