/**
 * The embedded store's model cache: the resource rows `loadAll` returns, written to
 * a file in the data directory when the store closes, read back at the next open
 * instead of asking PostgreSQL for them (docs/adr/0037-model-cache.md).
 *
 * Why: with 10,000 records, building the rows' JSON inside PGlite cost more CPU
 * than opening the database, and grew its WebAssembly heap for good.
 *
 * Invariants:
 * - the file holds exactly what LOAD_ALL answered at `revision` (the same text);
 * - it is used only if the database still stands at that revision with that many
 *   resource rows: every commit moves the revision, so a crash after a write, a
 *   failed close or a restored older database falls back to the query;
 * - it lives inside the PostgreSQL data directory, so a copy or backup of that
 *   directory carries the matching cache (PostgreSQL ignores the file);
 * - written to a temporary name and renamed: a cut-short write is never read as a
 *   cache (and any file that does not parse is ignored).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The cache file in the PostgreSQL data directory. */
export const MODEL_CACHE_FILE = 'vnp-model-cache.json';

/** What identifies the database state the rows belong to. */
export interface ModelCacheKey {
  revision: number;
  /** Rows in vnp_resources. */
  count: number;
}

/** A cache as read: its key and the LOAD_ALL `j` text. */
export interface ModelCache extends ModelCacheKey {
  rows: string;
}

/**
 * Read the cache of `dir`, if there is a well-formed one (not yet checked against
 * the database: the caller compares the key).
 *
 * @example const hit = await readModelCache('./.vnp/pg'); // { revision: 12, count: 9, rows: '[…]' }
 */
export async function readModelCache(dir: string): Promise<ModelCache | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_CACHE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  // First line: the key; the rest: the rows' JSON, parsed by the store as the query's.
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  try {
    const key = JSON.parse(text.slice(0, nl)) as Partial<ModelCacheKey>;
    const rows = text.slice(nl + 1);
    if (!Number.isSafeInteger(key.revision) || !Number.isSafeInteger(key.count)) return undefined;
    if (!rows.startsWith('[') || !rows.endsWith(']')) return undefined;
    return { revision: key.revision!, count: key.count!, rows };
  } catch {
    return undefined;
  }
}

/**
 * Write the cache of `dir` atomically (temporary file, then rename).
 *
 * @example await writeModelCache('./.vnp/pg', { revision: 12, count: 9, rows: '[…]' });
 */
export async function writeModelCache(dir: string, cache: ModelCache): Promise<void> {
  const file = join(dir, MODEL_CACHE_FILE);
  const tmp = `${file}.tmp`;
  const key: ModelCacheKey = { revision: cache.revision, count: cache.count };
  try {
    await writeFile(tmp, `${JSON.stringify(key)}\n${cache.rows}`, { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Remove the cache of `dir` (it is about to be outdated or could not be checked).
 *
 * @example await dropModelCache('./.vnp/pg');
 */
export async function dropModelCache(dir: string): Promise<void> {
  await rm(join(dir, MODEL_CACHE_FILE), { force: true });
}
