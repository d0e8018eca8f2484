/**
 * A page whose code is a separate chunk, loaded on its first visit (or ahead of it with
 * `prefetch`), so the first paint does not parse code it does not show: the map's
 * Cytoscape.js is most of the bundle.
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export interface LazyPage {
  (): preact.JSX.Element;
  /** Load the chunk now (a no-op once asked). */
  prefetch(): Promise<unknown>;
}

export function lazyPage(id: string, load: () => Promise<ComponentType>): LazyPage {
  let loaded: ComponentType | undefined;
  let pending: Promise<ComponentType> | undefined;
  const get = () => (pending ??= load().then((c) => (loaded = c)));
  const Page = () => {
    const [Loaded, setLoaded] = useState<ComponentType | undefined>(() => loaded);
    useEffect(() => {
      if (!Loaded) void get().then((c) => setLoaded(() => c));
    }, []);
    if (Loaded) return <Loaded />;
    return (
      <section data-page={id} data-ready="false" aria-busy="true">
        Loading…
      </section>
    );
  };
  return Object.assign(Page, { prefetch: get });
}
