/**
 * A pre-initialised embedded database, built once at install time and copied into
 * a new data directory instead of running initdb there.
 *
 * PGlite initialises an empty directory by starting a second PostgreSQL instance
 * and running initdb in it: on these machines five to six times the time and three
 * times the memory of opening an existing database. The seed is a database PGlite
 * itself initialised, with vnp's migrations applied, and shut down cleanly; a copy
 * of it is indistinguishable from a directory initialised on the spot (same
 * PGlite build, same files), so a first start costs a file copy and a reopen
 * (docs/adr/0015-startup.md).
 *
 * `npm run build` builds it (scripts/build-seed.mjs) next to the compiled module
 * (dist/store/pglite/seed/); running from the sources there is none, and a data
 * directory is initialised as before.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCK_FILE } from './data-dir-lock.js';

/** Where the build puts the seed: beside this module. */
export const DEFAULT_SEED_DIR = fileURLToPath(new URL('./seed', import.meta.url));

/** PostgreSQL's marker of an initialised data directory (PGlite checks it too). */
const MARKER = 'PG_VERSION';

/**
 * True when `dir` holds an initialised database.
 *
 * @example
 *   isInitialised('./.vnp/pg') // false before the first start
 */
export function isInitialised(dir: string): boolean {
  return existsSync(join(dir, MARKER));
}

/**
 * Copy the seed into an uninitialised data directory. The marker is copied last,
 * so a copy cut short (a crash) leaves a directory that is still uninitialised
 * and is copied over again on the next start.
 *
 * @example
 *   await copySeed(DEFAULT_SEED_DIR, './.vnp/pg');
 */
export async function copySeed(seedDir: string, dataDir: string): Promise<void> {
  const marker = join(seedDir, MARKER);
  await cp(seedDir, dataDir, {
    recursive: true,
    force: true,
    filter: (src) => src !== marker && basename(src) !== LOCK_FILE,
  });
  await cp(marker, join(dataDir, MARKER));
}

/**
 * Build a seed at `seedDir` (replacing any): `initialise` opens a store on an empty
 * directory (initdb and migrations) and closes it. Built beside the target and
 * renamed into place, so a failed build leaves no half seed.
 *
 * @example
 *   await buildSeed(DEFAULT_SEED_DIR, async (dir) => (await openPgliteStore({ dataDir: dir, seedDir: null })).close());
 */
export async function buildSeed(
  seedDir: string,
  initialise: (dir: string) => Promise<void>,
): Promise<void> {
  const work = await mkdtemp(join(dirname(seedDir), '.seed-build-'));
  try {
    await initialise(work);
    if (!isInitialised(work)) throw new Error(`no database was initialised in ${work}`);
    await rm(seedDir, { recursive: true, force: true });
    await rename(work, seedDir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
