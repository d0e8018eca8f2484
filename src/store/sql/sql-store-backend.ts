/**
 * What a backend (pglite/, postgres/) plugs into the shared SQL store.
 */
import type { SqlClient } from './sql-client.js';

/** What a backend plugs into the shared store. */
export interface SqlStoreBackend {
  name: string;
  /** Other managers may write to the same database (see Store.shared). */
  shared: boolean;
  client: SqlClient;
  /** Announce each commit with pg_notify inside its transaction. */
  notify: boolean;
  /** Runs after COMMIT and before commit() resolves (e.g. fsync the WAL). */
  afterCommit?: () => Promise<void>;
  /** Start hearing other writers' commits; resolves once listening; returns stop. */
  follow?: (report: (revision: number) => void) => Promise<() => Promise<void>>;
  /** Release the client (pool, PGlite instance). */
  close: () => Promise<void>;
}
