/**
 * The client's error tree: one class per kind of failure a caller handles differently. Every API
 * error carries the HTTP `status`, the contract's stable `code`, the server's `detail` and the
 * `requestId` the server logged it under (`X-Request-ID`).
 */

export interface ErrorInit {
  status?: number | undefined;
  code?: string | undefined;
  detail?: unknown;
  requestId?: string | undefined;
}

export class SwitchboardError extends Error {
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly detail: unknown;
  readonly requestId: string | undefined;

  constructor(message: string, init: ErrorInit = {}) {
    super(message);
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
  }
}

/** The server could not be reached (after the retries allowed). */
export class ConnectionError extends SwitchboardError {}
/** 401: missing, invalid or expired credentials. */
export class AuthenticationError extends SwitchboardError {}
/** 403: authenticated, but not allowed (role, scope, another user's resource). */
export class PermissionDeniedError extends SwitchboardError {}
/** 404: no such resource, or not one the caller may see. */
export class NotFoundError extends SwitchboardError {}
/** 409: the resource's state does not allow this (duplicate, run in progress). */
export class ConflictError extends SwitchboardError {}

/** One problem of a refused request body (FastAPI's validation error shape). */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** 400 or 422: the request was refused as malformed; `fieldErrors` lists the problems. */
export class ValidationError extends SwitchboardError {
  readonly fieldErrors: FieldError[];

  constructor(message: string, init: ErrorInit = {}) {
    super(message, init);
    this.fieldErrors = Array.isArray(init.detail) ? (init.detail.filter(isFieldError) as FieldError[]) : [];
  }
}

/** 429 after the retries allowed; `retryAfter` is the server's wait in seconds. */
export class RateLimitError extends SwitchboardError {
  readonly retryAfter: number | undefined;

  constructor(message: string, init: ErrorInit & { retryAfter?: number | undefined } = {}) {
    super(message, init);
    this.retryAfter = init.retryAfter;
  }
}

/** 5xx: the server failed; safe to report, sometimes to retry. */
export class ServerError extends SwitchboardError {}
/** A chat or events stream failed (closed by the server, timed out, or a refused frame). */
export class StreamError extends SwitchboardError {}
/** A webhook delivery's signature or timestamp does not check out: answer it with a 4xx. */
export class WebhookVerificationError extends SwitchboardError {}

function isFieldError(item: unknown): boolean {
  return typeof item === "object" && item !== null && "msg" in item && "loc" in item;
}

/** One readable line from a FastAPI `detail` (a string, or a list of validation problems). */
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

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - now) / 1000);
}

/** The error for a non-2xx response whose body (already read) is `body`. */
export function errorFromResponse(status: number, headers: Headers, body: unknown, statusText = ""): SwitchboardError {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof record.code === "string" ? record.code : `http_${status}`;
  const detail = "detail" in record ? record.detail : typeof body === "string" && body ? body : statusText;
  const init = { status, code, detail, requestId: headers.get("x-request-id") ?? undefined };
  const message = `${status} ${formatDetail(detail) || statusText || "request failed"} (${code})`;
  if (status === 401) return new AuthenticationError(message, init);
  if (status === 403) return new PermissionDeniedError(message, init);
  if (status === 404) return new NotFoundError(message, init);
  if (status === 409) return new ConflictError(message, init);
  if (status === 400 || status === 413 || status === 422) return new ValidationError(message, init);
  if (status === 429) return new RateLimitError(message, { ...init, retryAfter: parseRetryAfter(headers.get("retry-after")) });
  if (status >= 500) return new ServerError(message, init);
  return new SwitchboardError(message, init);
}
