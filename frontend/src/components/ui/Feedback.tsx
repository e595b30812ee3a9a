import type { ReactNode } from "react";
import { ApiError, formatDetail } from "../../lib/api";

/** A readable line for any thrown value, preferring the API's `detail`. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return formatDetail(error.detail) || error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (error === null || error === undefined || error === "") return null;
  return (
    <p className="error" role="alert">
      {typeof error === "string" ? error : errorText(error)}
    </p>
  );
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

export function Badge({ tone, children }: { tone: "ok" | "bad" | "warn" | "neutral"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** Pretty JSON for arguments, results and details. */
export function JsonBlock({ value, label }: { value: unknown; label?: string }) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return (
    <pre className="json" aria-label={label}>
      {text}
    </pre>
  );
}
