/** Access and refresh tokens, kept in localStorage so a reload stays signed in. */

import type { TokenStore } from "@switchboard/client";
import type { TokenPair } from "./protocol";

const STORAGE_KEY = "switchboard.auth";

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
}

type Listener = (tokens: StoredTokens | null) => void;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled by the browser
  }
}

/** The stored tokens, or null when signed out or the stored value is unreadable. */
export function loadTokens(): StoredTokens | null {
  const raw = storage()?.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "accessToken" in parsed &&
      "refreshToken" in parsed &&
      "expiresAt" in parsed &&
      typeof parsed.accessToken === "string" &&
      typeof parsed.refreshToken === "string" &&
      typeof parsed.expiresAt === "number"
    ) {
      return { accessToken: parsed.accessToken, refreshToken: parsed.refreshToken, expiresAt: parsed.expiresAt };
    }
  } catch {
    // fall through: treat as signed out
  }
  return null;
}

function store(tokens: StoredTokens): StoredTokens {
  storage()?.setItem(STORAGE_KEY, JSON.stringify(tokens));
  listeners.forEach((listener) => listener(tokens));
  return tokens;
}

/** Store a fresh pair from login or refresh. */
export function saveTokens(pair: TokenPair, now: number = Date.now()): StoredTokens {
  return store({ accessToken: pair.access_token, refreshToken: pair.refresh_token, expiresAt: now + pair.expires_in * 1000 });
}

/** Forget the tokens (sign out, or a refresh that was refused). */
export function clearTokens(): void {
  storage()?.removeItem(STORAGE_KEY);
  listeners.forEach((listener) => listener(null));
}

/** Be told when tokens change; returns the unsubscribe function. */
export function onTokensChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The client package's view of this storage: the API client refreshes and clears through it. */
export const tokenStore: TokenStore = {
  load: loadTokens,
  save: (tokens) =>
    void store({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? "", expiresAt: tokens.expiresAt ?? 0 }),
  clear: clearTokens,
};
