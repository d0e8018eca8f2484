/**
 * The shared store: PostgreSQL through a `pg` Pool. Several managers may use
 * one database; each hears the others' commits through LISTEN/NOTIFY (see
 * change-follower.ts) and the revision row serializes their writes.
 */
import pg from 'pg';
import { CHANGES_CHANNEL, SqlStore } from '../sql/sql-store.js';
import type { Store } from '../types.js';
import { followChanges } from './change-follower.js';
import { poolClient } from './postgres-client.js';

export interface PostgresStoreSettings {
  /** `postgres://user@host:port/db` */
  url: string;
  /** Pool size (default 10). */
  poolSize?: number;
}

/**
 * Connect to PostgreSQL and migrate.
 *
 * @example
 *   const store = await openPostgresStore({ url: 'postgres://vnp@db:5432/vnp' });
 *   const off = await store.onCommit((rev) => console.log('committed', rev));
 */
export async function openPostgresStore(settings: PostgresStoreSettings): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolSize ?? 10,
    // An acknowledged commit must be on disk whatever the server's default.
    options: '-c synchronous_commit=on',
  });
  // Idle connections that die (server restart) are dropped by the pool; without
  // a handler their 'error' would crash the process.
  pool.on('error', () => undefined);
  const client = poolClient(pool);
  let store: SqlStore | undefined;
  store = new SqlStore({
    name: 'postgres',
    shared: true,
    client,
    notify: true,
    follow: (report) =>
      followChanges(
        {
          url: settings.url,
          channel: CHANGES_CHANNEL,
          currentRevision: () => (store ? store.revision() : Promise.resolve(0)),
        },
        report,
      ),
    close: () => pool.end(),
  });
  try {
    await store.migrate();
  } catch (e) {
    await pool.end().catch(() => undefined);
    store = undefined;
    throw e;
  }
  return store;
}
