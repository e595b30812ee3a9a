/** Loading data from the API in components: state, error and a reload, cancelled on unmount. */

import { useCallback, useEffect, useState } from "react";
import { api } from "./api";

type Query = Record<string, string | number | boolean | null | undefined>;

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GET `path` with `query`; refetches when either changes (pass null to skip). */
export function useGet<T>(path: string | null, query: Query = {}): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [version, setVersion] = useState(0);
  const key = JSON.stringify(query);

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setLoading(true);
    api
      .get<T>(path, JSON.parse(key) as Query, controller.signal)
      .then((result) => {
        setData(result);
        setError(null);
      })
      .catch((reason: unknown) => {
        if (!controller.signal.aborted) setError(reason);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [path, key, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data, error, loading, reload };
}

/** Call `tick` every `intervalMs` while the tab is visible, and once when it becomes visible again
 * (the admin's live views poll: the events socket carries no queue or per-minute stats events). */
export function usePolling(tick: () => void, intervalMs: number): void {
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") tick();
    }, intervalMs);
    const onVisible = () => {
      if (document.visibilityState === "visible") tick();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [tick, intervalMs]);
}
