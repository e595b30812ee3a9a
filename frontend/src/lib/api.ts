/**
 * The REST client: the one place for auth headers, silent token refresh and error mapping.
 * Every failure surfaces as an ApiError carrying the contract's {detail, code}.
 */

import { clearTokens, loadTokens, saveTokens } from "./tokens";
import type { TokenPair } from "./protocol";

export const API_BASE = "/api/v1";
/** Refresh this long before the access token expires, so requests never race its expiry. */
const REFRESH_MARGIN_MS = 30_000;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Skip the Authorization header and refresh logic (login, register, refresh). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

/** Turn a FastAPI `detail` (a string, or a list of validation errors) into one readable line. */
export function formatDetail(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: unknown) => {
        if (typeof item === "object" && item !== null && "msg" in item) {
          const loc = "loc" in item && Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
          return loc ? `${loc}: ${String(item.msg)}` : String(item.msg);
        }
        return typeof item === "string" ? item : JSON.stringify(item);
      })
      .join("; ");
  }
  if (detail === undefined || detail === null) return "";
  return JSON.stringify(detail);
}

async function toApiError(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let detail = response.statusText || `Request failed (${response.status})`;
  try {
    const body: unknown = await response.json();
    if (typeof body === "object" && body !== null) {
      if ("code" in body && typeof body.code === "string") code = body.code;
      if ("detail" in body) detail = formatDetail(body.detail) || detail;
    }
  } catch {
    // not JSON (a proxy's HTML error page): keep the status text
  }
  return new ApiError(response.status, code, detail);
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ""}`;
}

let refreshing: Promise<boolean> | null = null;

/** Exchange the refresh token for a new pair; concurrent callers share one request. */
export function refreshTokens(): Promise<boolean> {
  refreshing ??= (async () => {
    const tokens = loadTokens();
    if (!tokens) return false;
    try {
      const response = await fetch(buildUrl("/auth/refresh"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: tokens.refreshToken }),
      });
      if (!response.ok) {
        // Only a refusal signs out; a network blip keeps the tokens for the next try.
        if (response.status === 401 || response.status === 400 || response.status === 403) clearTokens();
        return false;
      }
      saveTokens((await response.json()) as TokenPair);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A valid access token, refreshed first when it is about to expire. */
export async function freshAccessToken(): Promise<string | null> {
  const tokens = loadTokens();
  if (!tokens) return null;
  if (tokens.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    await refreshTokens();
  }
  return loadTokens()?.accessToken ?? null;
}

async function send(method: string, path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = body;
  if (options.signal) init.signal = options.signal;
  return fetch(buildUrl(path, options.query), init);
}

/** Perform a request and return the raw Response (used for downloads); throws ApiError when not ok. */
export async function requestRaw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const token = options.anonymous ? null : await freshAccessToken();
  let response = await send(method, path, options, token);
  if (response.status === 401 && !options.anonymous && (await refreshTokens())) {
    response = await send(method, path, options, loadTokens()?.accessToken ?? null);
  }
  if (!response.ok) throw await toApiError(response);
  return response;
}

/** Perform a JSON request; 204 answers resolve to undefined. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await requestRaw(method, path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>("GET", path, signal ? { query, signal } : { query }),
  post: <T>(path: string, body?: unknown, options: RequestOptions = {}) => request<T>("POST", path, { ...options, body }),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  delete: (path: string) => request<undefined>("DELETE", path),
};
