/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) in a data
 * directory, no server needed. One process owns the directory (lock file);
 * PGlite is one connection, so statements and transactions are serialized.
 * onCommit reports this process's own commits: nobody else can write here.
 */
import { mkdir } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlClient } from '../sql/sql-client.js';
import type { Store } from '../types.js';
import { CachedSqlStore } from './cached-sql-store.js';
import { lockDataDir } from './data-dir-lock.js';
import { loadPgliteAssets, type PgliteAssets } from './pglite-assets.js';
import { pgliteClient } from './pglite-client.js';
import { PgliteWorker, workerClient } from './pglite-worker.js';
import { readModelCache } from './model-cache.js';
import { copySeed, DEFAULT_SEED_DIR, isInitialised } from './seed.js';
import { walSyncer, type WalSyncer } from './wal-sync.js';

export interface PgliteStoreSettings {
  /** Directory of the database files (created if missing). */
  dataDir: string;
  /** fsync the WAL after every commit (default true). Turning it off keeps
   *  commits safe from a manager crash but not from an OS crash or power loss. */
  syncCommits?: boolean;
  /** A pre-initialised database to copy into an uninitialised directory instead of
   *  running initdb (seed.ts). Default: the build's seed, when there is one; null: never. */
  seedDir?: string | null;
  /** PostgreSQL's buffer pool (`shared_buffers`), default {@link DEFAULT_SHARED_BUFFERS}. */
  sharedBuffers?: string;
  /** PGlite's files, already being read and compiled (default: started here). */
  assets?: Promise<PgliteAssets>;
  /**
   * Run PGlite on a worker thread (pglite-worker.ts). Default false: on a 2-core machine
   * it cost more CPU per write than it took off the main thread (ADR 0058).
   */
  worker?: boolean;
}

/** An open PGlite, on this thread or a worker: its client and how to close it. */
interface OpenDb {
  client: SqlClient;
  close(): Promise<void>;
}

/** Open PGlite in `dataDir` with vnp's start parameters, on a worker thread or here. */
async function openDb(
  settings: PgliteStoreSettings,
  wasmModule: WebAssembly.Module,
): Promise<OpenDb> {
  // relaxedDurability false: a query resolves only after PGlite has handed its
  // writes to the filesystem (it matters for buffered filesystems; Node's writes through).
  // The WebAssembly module is compiled as PGlite does by default (baseline code,
  // hot functions optimized as they run): compiling all of PostgreSQL optimized
  // up front cost a quarter of a restart (docs/adr/0015-startup.md).
  const options = {
    dataDir: settings.dataDir,
    relaxedDurability: false,
    extraStartParams: ['-c', `shared_buffers=${settings.sharedBuffers ?? DEFAULT_SHARED_BUFFERS}`],
  };
  if (settings.worker === true) {
    const w = await PgliteWorker.open(wasmModule, options);
    return { client: workerClient(w), close: () => w.close() };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { extraStartParams, ...rest } = options;
  const db: PGlite = await PGlite.create({
    ...rest,
    pgliteWasmModule: wasmModule,
    startParams: [...PGlite.defaultStartParams, ...extraStartParams],
  });
  return { client: pgliteClient(db), close: () => db.close() };
}

/**
 * The embedded database's buffer pool. PGlite keeps PostgreSQL's default of 128 MB,
 * and its start writes the whole pool: about half the resident memory of an idle
 * PGlite and a fifth of its reopen's CPU. vnp's own tables are a few MB at 10,000
 * records (the model loads from the cache, writes touch a few pages), and pages outside
 * the pool are still in the OS page cache (docs/adr/0051-pglite-buffer-pool.md).
 */
export const DEFAULT_SHARED_BUFFERS = '32MB';

/**
 * Open (creating if needed) and migrate the embedded store.
 *
 * @example
 *   const store = await openPgliteStore({ dataDir: './.vnp/pg' });
 *   const { revision, documents } = await store.loadAll();
 */
export async function openPgliteStore(settings: PgliteStoreSettings): Promise<Store> {
  const assets = settings.assets ?? loadPgliteAssets();
  assets.catch(() => undefined); // awaited below, after the lock; never unhandled meanwhile
  await mkdir(settings.dataDir, { recursive: true, mode: 0o700 });
  const release = await lockDataDir(settings.dataDir);
  let db: OpenDb | undefined;
  let wal: WalSyncer | undefined;
  try {
    const seedDir = settings.seedDir === undefined ? DEFAULT_SEED_DIR : settings.seedDir;
    if (seedDir !== null && !isInitialised(settings.dataDir) && isInitialised(seedDir))
      await copySeed(seedDir, settings.dataDir);
    // The model cache is read and parsed while the WebAssembly compiles and PGlite
    // reads its files (the main thread waits there); loadAll checks it against the
    // database as before (docs/adr/0059-trusted-model-load.md).
    const cache = readModelCache(settings.dataDir);
    const { wasmModule } = await assets;
    db = await openDb(settings, wasmModule);
    const { client } = db;
    if (settings.syncCommits !== false) wal = await walSyncer(client, settings.dataDir);
    const walSync = wal;
    const open = db;
    // The model loads from the cache written at the last close when it still matches.
    const store = new CachedSqlStore(
      {
        name: 'pglite',
        shared: false,
        client,
        notify: false,
        ...(walSync ? { afterCommit: () => walSync.sync() } : {}),
        close: async () => {
          try {
            await walSync?.close();
            await open.close();
          } finally {
            await release();
          }
        },
      },
      client,
      settings.dataDir,
      cache,
    );
    await store.migrate();
    return store;
  } catch (e) {
    await wal?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await release();
    throw e;
  }
}
