import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  Switchboard,
  SwitchboardError,
  ValidationError,
} from "../src/index.js";
import { mainUrl, PASSWORD, signedIn, slowUrl } from "./helpers.js";

describe("auth", () => {
  it("registers, signs in, reads me, refreshes and signs out", async () => {
    const { sb, username } = await signedIn(mainUrl(), "auth");
    const me = await sb.auth.me();
    expect(me.username).toBe(username);
    expect(me.full_name).toBe("TS Client");
    const before = sb.http.tokens.load();
    const after = await sb.auth.refresh();
    expect(after?.accessToken).toBeTruthy();
    expect(after?.refreshToken).not.toBe(before?.refreshToken); // refresh tokens rotate
    expect((await sb.auth.me()).username).toBe(username);
    await sb.auth.logout();
    expect(sb.http.tokens.load()).toBeNull();
    await expect(sb.auth.me()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("refreshes an expired access token by itself", async () => {
    const { sb, username } = await signedIn(mainUrl(), "expiry");
    const tokens = sb.http.tokens.load()!;
    sb.http.tokens.save({ ...tokens, accessToken: "not-a-valid-token", expiresAt: Date.now() + 3600_000 });
    expect((await sb.auth.me()).username).toBe(username); // a 401, then refresh, then the retry
  });
});

describe("errors", () => {
  it("maps each status to its class with status, code and request id", async () => {
    const anonymous = new Switchboard({ baseUrl: mainUrl() });
    const wrong = await anonymous.auth.login("nobody-here", "wrong password!").catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong).toMatchObject({ status: 401, code: "invalid_credentials" });
    expect((wrong as SwitchboardError).requestId).toMatch(/\w+/);

    const invalid = await anonymous.auth.register({ email: "not-an-email", username: "x", password: "short" }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).status).toBe(422);
    expect((invalid as ValidationError).fieldErrors.map((f) => f.loc.at(-1))).toContain("email");

    const { sb, username } = await signedIn(mainUrl(), "errors");
    const duplicate = await sb.auth.register({ email: `${username}@example.com`, username, password: PASSWORD }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ConflictError);
    const missing = await sb.chat.getSession("00000000-0000-4000-8000-000000000000").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: "not_found" });
    const forbidden = await sb.request("GET", "/admin/users").catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(PermissionDeniedError);
    expect(forbidden).toMatchObject({ status: 403 });
  });

  it("retries a 429 after Retry-After, and raises RateLimitError when out of retries", async () => {
    const { sb } = await signedIn(slowUrl(), "limits");
    const patient = new Switchboard({ baseUrl: slowUrl(), token: sb.http.tokens.load()!.accessToken, maxRetries: 5 });
    const answers = await Promise.all(Array.from({ length: 8 }, () => patient.chat.listSessions()));
    expect(answers.every((page) => Array.isArray(page.items))).toBe(true);

    const impatient = new Switchboard({ baseUrl: slowUrl(), token: sb.http.tokens.load()!.accessToken, maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => impatient.chat.listSessions()));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toBeInstanceOf(RateLimitError);
    expect(refused[0]).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect((refused[0] as RateLimitError).retryAfter).toBeGreaterThanOrEqual(0);
  });
});
