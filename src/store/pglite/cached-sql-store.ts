/**
 * The embedded store with its model cache (model-cache.ts): `loadAll` answers from
 * the cache when the database still stands where the cache was written, and
 * `close` refreshes the cache when the database moved since it was read or written.
 */
import { SqlStore, type SqlStoreBackend } from '../sql/sql-store.js';
import * as Q from '../sql/queries.js';
import { parseResourceRows, toRevision, toStored } from '../sql/rows.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { StoredDocument } from '../types.js';
import { readModelCache, writeModelCache, type ModelCacheKey } from './model-cache.js';

const sameKey = (a: ModelCacheKey, b: ModelCacheKey | undefined): boolean =>
  b !== undefined && a.revision === b.revision && a.count === b.count;

/**
 * A SqlStore over PGlite whose model load may come from the cache in `dir`.
 *
 * @example
 *   const store = new CachedSqlStore({ name: 'pglite', shared: false, client, notify: false, close }, client, dir);
 */
export class CachedSqlStore extends SqlStore {
  /** What the cache file holds (read and matched, or written); undefined: unknown. */
  private cached: ModelCacheKey | undefined;
  private closing = false;

  constructor(
    impl: SqlStoreBackend,
    private readonly raw: SqlClient,
    private readonly dir: string,
  ) {
    super(impl);
  }

  override async loadAll(): Promise<{ revision: number; documents: StoredDocument[] }> {
    const hit = await readModelCache(this.dir);
    if (hit) {
      const key = await this.key();
      if (sameKey(key, hit) && hit.documents.length === key.count) {
        this.cached = key;
        return { revision: key.revision, documents: hit.documents };
      }
    }
    return super.loadAll();
  }

  /** Refresh the cache (if the database moved since it was read or written), then close. */
  override async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      // A cache is an optimisation: failing to write it must not fail the close.
      await this.saveCache().catch(() => undefined);
    }
    await super.close();
  }

  private async key(): Promise<ModelCacheKey> {
    const r = await this.raw.query<{ rev: unknown; n: unknown }>(Q.MODEL_KEY);
    const row = r.rows[0];
    return { revision: toRevision(row?.rev), count: toRevision(row?.n) };
  }

  private async saveCache(): Promise<void> {
    if (sameKey(await this.key(), this.cached)) return;
    const r = await this.raw.query<{ rev: unknown; n: unknown; j: unknown }>(Q.LOAD_ALL_KEYED);
    const row = r.rows[0];
    if (!row || typeof row.j !== 'string') return;
    const key = { revision: toRevision(row.rev), count: toRevision(row.n) };
    await writeModelCache(this.dir, { ...key, documents: parseResourceRows(row.j).map(toStored) });
    this.cached = key;
  }
}
