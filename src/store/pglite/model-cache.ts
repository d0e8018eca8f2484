/**
 * The embedded store's model cache: the stored documents `loadAll` returns, written
 * to a file in the data directory when the store closes, read back at the next open
 * instead of asking PostgreSQL for them (docs/adr/0037-model-cache.md).
 *
 * Why: with 10,000 records, building the rows' JSON inside PGlite cost more CPU
 * than opening the database, and grew its WebAssembly heap for good.
 *
 * Invariants:
 * - the file holds what LOAD_ALL answered at `revision`, already converted to stored
 *   documents (one JSON.parse builds them: converting 20,000 rows cost as much again,
 *   docs/adr/0047-bundled-start.md); a file of another `format` is no cache;
 * - it is used only if the database still stands at that revision with that many
 *   resource rows: every commit moves the revision, so a crash after a write, a
 *   failed close or a restored older database falls back to the query;
 * - it lives inside the PostgreSQL data directory, so a copy or backup of that
 *   directory carries the matching cache (PostgreSQL ignores the file);
 * - written to a temporary name and renamed: a cut-short write is never read as a
 *   cache (and any file that does not parse is ignored);
 * - `validatedBy`, when present, names the validation the whole model at `revision`
 *   passed in the manager that wrote it; the reader decides whether it trusts that
 *   name (docs/adr/0059-trusted-model-load.md).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredDocument } from '../types.js';

/** The cache file in the PostgreSQL data directory. */
export const MODEL_CACHE_FILE = 'vnp-model-cache.json';

/** What the file holds after its key line: 2 = stored documents (1 was the query's rows). */
const CACHE_FORMAT = 2;

/** What identifies the database state the documents belong to. */
export interface ModelCacheKey {
  revision: number;
  /** Rows in vnp_resources. */
  count: number;
}

/** A cache: its key and the documents loadAll answered at that key. */
export interface ModelCache extends ModelCacheKey {
  documents: StoredDocument[];
  /** The validation stamp these documents passed (Store.markValidated), if known. */
  validatedBy?: string;
}

/**
 * Read the cache of `dir`, if there is a well-formed one (not yet checked against
 * the database: the caller compares the key).
 *
 * @example const hit = await readModelCache('./.vnp/pg'); // { revision: 12, count: 9, documents: […] }
 */
export async function readModelCache(dir: string): Promise<ModelCache | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_CACHE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  // First line: the key; the rest: `{"documents":[…]}`.
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  try {
    const key = JSON.parse(text.slice(0, nl)) as Partial<ModelCacheKey> & {
      format?: unknown;
      validatedBy?: unknown;
    };
    if (key.format !== CACHE_FORMAT) return undefined;
    if (!Number.isSafeInteger(key.revision) || !Number.isSafeInteger(key.count)) return undefined;
    const { documents } = JSON.parse(text.slice(nl + 1)) as { documents?: unknown };
    if (!Array.isArray(documents)) return undefined;
    return {
      revision: key.revision!,
      count: key.count!,
      documents: documents as StoredDocument[],
      ...(typeof key.validatedBy === 'string' ? { validatedBy: key.validatedBy } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Write the cache of `dir` atomically (temporary file, then rename).
 *
 * @example await writeModelCache('./.vnp/pg', { revision: 12, count: 9, documents });
 */
export async function writeModelCache(dir: string, cache: ModelCache): Promise<void> {
  const file = join(dir, MODEL_CACHE_FILE);
  const tmp = `${file}.tmp`;
  const key = {
    revision: cache.revision,
    count: cache.count,
    format: CACHE_FORMAT,
    ...(cache.validatedBy !== undefined ? { validatedBy: cache.validatedBy } : {}),
  };
  try {
    // An object, not an array: a version that read format 1 takes only an array.
    const body = JSON.stringify({ documents: cache.documents });
    await writeFile(tmp, `${JSON.stringify(key)}\n${body}`, { mode: 0o600 });
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
