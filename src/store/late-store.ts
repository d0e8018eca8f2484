/**
 * A store that is still opening, usable as a Store: the manager's app is built (Fastify,
 * its plugins, the routes, the objects that hold the store) while the embedded database
 * opens — in the gaps of its open, or beside it with VNP_PGLITE_WORKER — instead of after
 * it (docs/adr/0061-app-built-while-the-store-opens.md).
 *
 * Invariants:
 * - a method called before the store opened waits for it, then runs: nothing is lost or
 *   reordered among calls made after the open (calls made before it run in call order,
 *   each once the open resolved);
 * - `backend` and `shared` are known only once the store opened: read earlier, they throw
 *   (a caller that needs them then has a bug, not a race to lose);
 * - once opened, every property is the opened store's (methods bound to it, once each).
 */
import type { Store } from './types.js';

/** The Store `opening` will be, and a way to know it opened. */
export interface LateStore {
  /** Stands for the store from now on. */
  store: Store;
  /** Resolves once the store opened (rejects as the open does). */
  opened: Promise<Store>;
}

/**
 * Wrap a store being opened.
 *
 * @example
 *   const { store, opened } = lateStore(openStore({ dataDir }));
 *   const manager = new Manager({ store }); // built while the database opens
 *   await opened; await manager.start();
 */
export function lateStore(opening: Promise<Store>): LateStore {
  let real: Store | undefined;
  const opened = opening.then((s) => (real = s));
  opened.catch(() => undefined); // the caller awaits `opened`; never unhandled meanwhile
  const bound = new Map<PropertyKey, unknown>();
  const store = new Proxy({} as Store, {
    get(_, key) {
      if (real) {
        const value = Reflect.get(real, key) as unknown;
        if (typeof value !== 'function') return value;
        let fn = bound.get(key);
        if (fn === undefined) bound.set(key, (fn = (value as Fn).bind(real)));
        return fn;
      }
      if (key === 'backend' || key === 'shared')
        throw new Error(`store.${key} read before the store opened`);
      if (key === 'then') return undefined; // not a promise itself
      return (...args: unknown[]) => opened.then((s) => (Reflect.get(s, key) as Fn).apply(s, args));
    },
  });
  return { store, opened };
}

type Fn = (...args: unknown[]) => unknown;
