/**
 * Chooses the store backend from the manager settings (design.md §4–5):
 * PostgreSQL when a database URL is given, else embedded PGlite under the
 * data directory.
 */
import { join } from 'node:path';
import { loadPgliteAssets } from './pglite/pglite-assets.js';
import type { Store } from './types.js';

export interface StoreSettings {
  /** VNP_DATA_DIR: PGlite keeps its database in `<dataDir>/pg`. */
  dataDir: string;
  /** VNP_DATABASE_URL: when set, PostgreSQL is used and dataDir holds no database. */
  databaseUrl?: string;
  /** VNP_PGLITE_WORKER: PGlite on a worker thread (ignored with databaseUrl). */
  worker?: boolean;
}

/** Where the embedded database lives inside the data directory. */
export function pgliteDir(dataDir: string): string {
  return join(dataDir, 'pg');
}

/**
 * Open and migrate the configured store.
 *
 * @example
 *   const store = await openStore({ dataDir: './.vnp' });                 // embedded
 *   const shared = await openStore({ dataDir: './.vnp', databaseUrl: 'postgres://…' });
 */
export async function openStore(settings: StoreSettings): Promise<Store> {
  // Each backend's modules load only when chosen (pg and PGlite each cost start-up).
  if (settings.databaseUrl !== undefined && settings.databaseUrl !== '') {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore({ url: settings.databaseUrl });
  }
  // PostgreSQL's WebAssembly compiles (off the main thread) while PGlite's module and
  // the caller's own modules load (docs/adr/0054-pglite-compiled-first.md).
  const assets = loadPgliteAssets();
  assets.catch(() => undefined); // observed by openPgliteStore; never unhandled meanwhile
  const { openPgliteStore } = await import('./pglite/pglite-store.js');
  return openPgliteStore({
    dataDir: pgliteDir(settings.dataDir),
    assets,
    ...(settings.worker ? { worker: true } : {}),
  });
}
