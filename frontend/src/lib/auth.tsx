/** The signed-in user: sign in, register, sign out, and silent refresh before the token expires. */

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, refreshTokens } from "./api";
import { clearTokens, loadTokens, onTokensChange, saveTokens } from "./tokens";
import type { TokenPair, User } from "./protocol";

/** Refresh this long before expiry so an idle tab comes back signed in. */
const PROACTIVE_REFRESH_MS = 60_000;

interface AuthValue {
  user: User | null;
  /** True until the stored tokens have been checked on start. */
  loading: boolean;
  login: (username: string, password: string) => Promise<void>;
  register: (fields: { email: string; username: string; password: string; full_name?: string }) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(() => loadTokens() !== null);
  const [expiresAt, setExpiresAt] = useState(() => loadTokens()?.expiresAt ?? null);

  const loadMe = useCallback(async () => {
    setUser(await api.get<User>("/auth/me"));
  }, []);

  useEffect(() => {
    if (!loadTokens()) return;
    loadMe()
      .catch(() => clearTokens())
      .finally(() => setLoading(false));
  }, [loadMe]);

  useEffect(
    () =>
      onTokensChange((tokens) => {
        setExpiresAt(tokens?.expiresAt ?? null);
        if (!tokens) setUser(null);
      }),
    [],
  );

  useEffect(() => {
    if (expiresAt === null || !user) return;
    const delay = Math.max(5_000, expiresAt - Date.now() - PROACTIVE_REFRESH_MS);
    const timer = window.setTimeout(() => void refreshTokens(), delay);
    return () => window.clearTimeout(timer);
  }, [expiresAt, user]);

  const login = useCallback(
    async (username: string, password: string) => {
      const pair = await api.post<TokenPair>("/auth/login", { username, password }, { anonymous: true });
      saveTokens(pair);
      await loadMe();
    },
    [loadMe],
  );

  const register = useCallback<AuthValue["register"]>(
    async (fields) => {
      await api.post<User>("/auth/register", fields, { anonymous: true });
      await login(fields.username, fields.password);
    },
    [login],
  );

  const logout = useCallback(async () => {
    const tokens = loadTokens();
    try {
      if (tokens) await api.post("/auth/logout", { refresh_token: tokens.refreshToken });
    } catch {
      // Signing out locally matters more than telling the server.
    }
    clearTokens();
  }, []);

  const value = useMemo(() => ({ user, loading, login, register, logout }), [user, loading, login, register, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
