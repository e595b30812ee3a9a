/** `npm pack` makes a tarball that installs into a fresh project and imports on Node, with types. */

import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "sb-pack-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it("packs, installs and imports", async () => {
  await run("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: root });
  const tarball = readdirSync(scratch).find((name) => name.endsWith(".tgz"));
  expect(tarball).toMatch(/^switchboard-client-\d+\.\d+\.\d+\.tgz$/);
  const { stdout: listing } = await run("tar", ["-tzf", join(scratch, tarball!)]);
  expect(listing).toContain("package/dist/index.js");
  expect(listing).toContain("package/dist/index.d.ts");
  expect(listing).toContain("package/dist/node.js");
  expect(listing).not.toContain("package/test/");
  const app = join(scratch, "app");
  await run("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module", private: true }));
  await run("npm", ["install", "--silent", "--prefer-offline", "--no-audit", "--no-fund", join(scratch, tarball!)], { cwd: app });
  const probe = "import('@switchboard/client').then(m => console.log(typeof m.Switchboard, typeof m.verifyWebhookSignature))";
  const { stdout } = await run("node", ["-e", probe], { cwd: app });
  expect(stdout.trim()).toBe("function function");
}, 120_000);
