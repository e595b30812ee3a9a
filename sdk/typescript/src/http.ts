/**
 * The one place for credentials, silent token refresh, retries and error mapping. Every resource
 * calls `HttpCore.request`; streams ask it for fresh credentials before they connect.
 */

import { ConnectionError, errorFromResponse, parseRetryAfter, RateLimitError, SwitchboardError } from "./errors.js";
import type { TokenPair } from "./types.js";

export const API_PREFIX = "/api/v1";
/** Refresh this long before the access token expires, so requests never race its expiry. */
const REFRESH_MARGIN_MS = 30_000;
/** A longer Retry-After than this is not waited out: the RateLimitError goes to the caller. */
const MAX_RETRY_AFTER_S = 60;
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

export type Query = Record<string, string | number | boolean | null | undefined | string[]>;

/** The tokens a client holds; `expiresAt` is epoch milliseconds. */
export interface StoredTokens {
  accessToken: string;
  refreshToken?: string | undefined;
  expiresAt?: number | undefined;
}

/** Where a client keeps its tokens (default: in memory). A browser app may persist them. */
export interface TokenStore {
  load(): StoredTokens | null;
  save(tokens: StoredTokens): void;
  clear(): void;
}

export class MemoryTokenStore implements TokenStore {
  private tokens: StoredTokens | null;

  constructor(initial: StoredTokens | null = null) {
    this.tokens = initial;
  }

  load(): StoredTokens | null {
    return this.tokens;
  }

  save(tokens: StoredTokens): void {
    this.tokens = tokens;
  }

  clear(): void {
    this.tokens = null;
  }
}

export interface RequestOptions {
  query?: Query | undefined;
  body?: unknown;
  /** Send no credentials and never refresh (register, login, refresh). */
  anonymous?: boolean | undefined;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
  /** The path is not under /api/v1 (`/health`). */
  root?: boolean | undefined;
}

export interface HttpOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  maxRetries?: number | undefined;
  fetch?: typeof fetch | undefined;
  tokenStore: TokenStore;
}

export function tokensFromPair(pair: TokenPair, now: number = Date.now()): StoredTokens {
  return { accessToken: pair.access_token, refreshToken: pair.refresh_token, expiresAt: now + pair.expires_in * 1000 };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

export class HttpCore {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly maxRetries: number;
  readonly tokens: TokenStore;
  private readonly fetcher: typeof fetch;
  private refreshing: Promise<boolean> | null = null;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.maxRetries = options.maxRetries ?? 2;
    this.tokens = options.tokenStore;
    this.fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query?: Query, root = false): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null || value === "") continue;
      if (Array.isArray(value)) for (const item of value) params.append(key, item);
      else params.set(key, String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${root ? "" : API_PREFIX}${path}${qs ? `?${qs}` : ""}`;
  }

  /** The credentials to send now: an API key, or an access token refreshed when about to expire. */
  async credentials(): Promise<{ apiKey?: string; token?: string }> {
    if (this.apiKey) return { apiKey: this.apiKey };
    let tokens = this.tokens.load();
    if (tokens?.refreshToken && tokens.expiresAt !== undefined && tokens.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
      await this.refresh();
      tokens = this.tokens.load();
    }
    return tokens ? { token: tokens.accessToken } : {};
  }

  /** Exchange the refresh token for a new pair; concurrent callers share one request. */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refreshToken = this.tokens.load()?.refreshToken;
      if (!refreshToken) return false;
      try {
        const pair = await this.request<TokenPair>("POST", "/auth/refresh", {
          anonymous: true,
          body: { refresh_token: refreshToken },
        });
        this.tokens.save(tokensFromPair(pair));
        return true;
      } catch (error) {
        // Only a refusal forgets the tokens; a network blip keeps them for the next try.
        if (error instanceof SwitchboardError && error.status !== undefined && error.status < 500) this.tokens.clear();
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Perform a request and return the raw Response (streams, downloads); throws on non-2xx. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const response = await this.attempt(method, path, options, attempt);
      if (response.ok) return response;
      if (response.status === 401 && !options.anonymous && !this.apiKey && !refreshed && (await this.refresh())) {
        refreshed = true;
        attempt--; // a refresh is not a retry
        continue;
      }
      const error = errorFromResponse(response.status, response.headers, await readBody(response), response.statusText);
      if (error instanceof RateLimitError && attempt < this.maxRetries) {
        const wait = error.retryAfter ?? parseRetryAfter(response.headers.get("retry-after")) ?? 2 ** attempt;
        if (wait <= MAX_RETRY_AFTER_S) {
          await sleep(wait * 1000, options.signal);
          continue;
        }
      }
      throw error;
    }
  }

  private async attempt(method: string, path: string, options: RequestOptions, attempt: number): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (!options.anonymous) {
      const { apiKey, token } = await this.credentials();
      if (apiKey) headers["X-API-Key"] = apiKey;
      else if (token) headers.Authorization = `Bearer ${token}`;
    }
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetcher(this.url(path, options.query, options.root), init);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // A request that may have reached the server is repeated only when repeating is harmless.
      if (attempt < this.maxRetries && IDEMPOTENT.has(method.toUpperCase())) {
        await sleep(250 * 2 ** attempt, options.signal);
        return this.attempt(method, path, options, attempt + 1);
      }
      throw new ConnectionError(`could not reach ${this.baseUrl}: ${String(error)}`, { code: "connection_error" });
    }
  }

  /** A JSON request; 204 answers resolve to undefined. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text.slice(0, 500); // not JSON (a proxy's HTML error page)
  }
}
