/** Loading an API answer into a component, again whenever `deps` change. */
import { useEffect, useState } from 'preact/hooks';
import { shownError, type ShownError } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ShownError | undefined;
  loading: boolean;
}

/**
 * Call `load` now and whenever a dependency changes (or every `everyMs`); keeps the
 * last answer while the next one loads.
 *
 * @example const peps = useApi(() => client.peps(), [], 2000);
 */
export function useApi<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  useEffect(() => {
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
  }, deps);
  return state;
}
