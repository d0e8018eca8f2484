/** Loading an API answer into a component, again whenever `deps` change. */
import { useEffect, useState } from 'preact/hooks';
import { shownError, type ShownError } from './api.js';
import type { AnswerCache } from './answer-cache.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ShownError | undefined;
  loading: boolean;
}

/**
 * Call `load` now (or once `when` turns true) and whenever a dependency changes (or every
 * `everyMs`); keeps the last answer while the next one loads.
 *
 * @example const peps = useApi(() => client.peps(), [], 2000);
 */
export function useApi<T>(
  load: () => Promise<T>,
  deps: unknown[],
  everyMs?: number,
  /** False: not yet (e.g. until the model's first pages are in); asked once it turns true. */
  when = true,
): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  useEffect(() => {
    if (!when) return;
    let live = true;
    const run = () => {
      load().then(
        (data) => live && setState({ data, error: undefined, loading: false }),
        (e: unknown) =>
          live && setState((s) => ({ data: s.data, error: shownError(e), loading: false })),
      );
    };
    run();
    const timer = everyMs === undefined ? undefined : setInterval(run, everyMs);
    return () => {
      live = false;
      if (timer !== undefined) clearInterval(timer);
    };
  }, [...deps, when]);
  return state;
}

/**
 * Like useApi, but the answer is kept in `cache` under `key` (which must name everything
 * the answer depends on, e.g. the model revision and the query): a page mounted again
 * with the same key shows the kept answer at once and does not ask (unless `everyMs`
 * polls).
 *
 * @example const graph = useCachedApi(model.answers, `graph@${model.revision}`, loadGraph);
 */
export function useCachedApi<T>(
  cache: AnswerCache,
  key: string,
  load: () => Promise<T>,
  everyMs?: number,
): Loaded<T> {
  const kept = cache.get<T>(key);
  const [state, setState] = useState<Loaded<T>>({
    data: kept,
    error: undefined,
    loading: kept === undefined,
  });
  useEffect(() => {
    let live = true;
    const run = () => {
      load().then(
        (data) => {
          cache.set(key, data);
          if (live) setState({ data, error: undefined, loading: false });
        },
        (e: unknown) =>
          live && setState((s) => ({ data: s.data, error: shownError(e), loading: false })),
      );
    };
    if (cache.has(key)) setState({ data: cache.get<T>(key), error: undefined, loading: false });
    else run();
    const timer = everyMs === undefined ? undefined : setInterval(run, everyMs);
    return () => {
      live = false;
      if (timer !== undefined) clearInterval(timer);
    };
  }, [key]);
  return state;
}
