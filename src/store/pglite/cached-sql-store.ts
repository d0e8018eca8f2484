/**
 * The embedded store with its model cache (model-cache.ts): `loadAll` answers from
 * the cache when the database still stands where the cache was written, and
 * `close` refreshes the cache when the database moved since it was read or written,
 * or when the manager vouched for the model at the database's revision
 * (`markValidated`: the cache then carries the stamp, docs/adr/0059-trusted-model-load.md).
 */
import { SqlStore, type SqlStoreBackend } from '../sql/sql-store.js';
import * as Q from '../sql/queries.js';
import { parseResourceRows, toRevision, toStored } from '../sql/rows.js';
import type { SqlClient } from '../sql/sql-client.js';
import type { LoadedModel } from '../types.js';
import {
  readModelCache,
  writeModelCache,
  type ModelCache,
  type ModelCacheKey,
} from './model-cache.js';

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
  private cached: (ModelCacheKey & { validatedBy?: string }) | undefined;
  /** The last markValidated call. */
  private validated: { revision: number; stamp: string } | undefined;
  private closing = false;

  /**
   * `prefetched`: the cache file, already being read (the opener starts the read and
   * parse before PostgreSQL opens, so it runs while the main thread would wait); the
   * first loadAll uses it, later ones read the file again.
   */
  constructor(
    impl: SqlStoreBackend,
    private readonly raw: SqlClient,
    private readonly dir: string,
    private prefetched?: Promise<ModelCache | undefined>,
  ) {
    super(impl);
  }

  override async loadAll(): Promise<LoadedModel> {
    const read = this.prefetched ?? readModelCache(this.dir);
    this.prefetched = undefined;
    const hit = await read;
    if (hit) {
      const key = await this.key();
      if (sameKey(key, hit) && hit.documents.length === key.count) {
        const stamp = hit.validatedBy !== undefined ? { validatedBy: hit.validatedBy } : {};
        this.cached = { ...key, ...stamp };
        return { revision: key.revision, documents: hit.documents, ...stamp };
      }
    }
    return super.loadAll();
  }

  markValidated(revision: number, stamp: string): void {
    this.validated = { revision, stamp };
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

  /** The stamp vouched for the model at `revision`, if any. */
  private stampAt(revision: number): string | undefined {
    return this.validated?.revision === revision ? this.validated.stamp : undefined;
  }

  private async saveCache(): Promise<void> {
    const now = await this.key();
    const stamp = this.stampAt(now.revision);
    // The file is current, and carries the stamp the model was vouched for, if any.
    if (sameKey(now, this.cached) && (stamp === undefined || stamp === this.cached?.validatedBy))
      return;
    const r = await this.raw.query<{ rev: unknown; n: unknown; j: unknown }>(Q.LOAD_ALL_KEYED);
    const row = r.rows[0];
    if (!row || typeof row.j !== 'string') return;
    const key = { revision: toRevision(row.rev), count: toRevision(row.n) };
    // Read again in the same statement as the documents: stamped only if still the revision vouched for.
    const validatedBy = this.stampAt(key.revision);
    const stamped = validatedBy !== undefined ? { validatedBy } : {};
    const documents = parseResourceRows(row.j).map(toStored);
    await writeModelCache(this.dir, { ...key, documents, ...stamped });
    this.cached = { ...key, ...stamped };
  }
}
