/**
 * The REST client: the `@switchboard/client` package (auth headers, silent token refresh before
 * expiry and on 401, 429 retries, the typed error tree) over this tab's token storage. Every failure
 * surfaces as a `SwitchboardError` (exported here as `ApiError`) carrying the contract's `code`.
 */

import { type Query, type RequestOptions as ClientRequestOptions, Switchboard, SwitchboardError } from "@switchboard/client";
import { tokenStore } from "./tokens";

export { formatDetail } from "@switchboard/client";
export { SwitchboardError as ApiError };

export const API_BASE = "/api/v1";

/** The app's one client, same-origin (the backend serves the app). */
export const client = new Switchboard({ baseUrl: "", tokenStore, maxRetries: 1 });

export type RequestOptions = Pick<ClientRequestOptions, "query" | "body" | "anonymous" | "signal">;

export function buildUrl(path: string, query?: Query): string {
  return client.http.url(path, query);
}

/** Exchange the refresh token for a new pair; concurrent callers share one request. */
export function refreshTokens(): Promise<boolean> {
  return client.http.refresh();
}

/** A valid access token, refreshed first when it is about to expire. */
export async function freshAccessToken(): Promise<string | null> {
  return (await client.http.credentials()).token ?? null;
}

/** Perform a request and return the raw Response (used for downloads); throws ApiError when not ok. */
export function requestRaw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  return client.http.send(method, path, options);
}

/** Perform a JSON request; 204 answers resolve to undefined. */
export function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  return client.http.request<T>(method, path, options);
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>("GET", path, signal ? { query, signal } : { query }),
  post: <T>(path: string, body?: unknown, options: RequestOptions = {}) => request<T>("POST", path, { ...options, body }),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  delete: (path: string) => request<undefined>("DELETE", path),
};

/** True when `error` is the API's answer (not a bug in the app). */
export function isApiError(error: unknown): error is SwitchboardError {
  return error instanceof SwitchboardError;
}
