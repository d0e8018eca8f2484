/**
 * Vitest global setup: the pre-initialised database (src/store/pglite/seed.ts) for
 * tests, which run the sources. `npm run build` puts the seed beside the compiled
 * module (dist/); beside the source module there was none, so every PGlite store a
 * test opened on a new directory — in process or in a `vnp server` spawned through
 * tsx — ran initdb: about 4 s against 1.5 s for a copy, a hundred times and more
 * per run (docs/adr/0067-ci-time.md).
 *
 * Built here from the sources, once, and again only when what it is made of changes
 * (the key: PGlite's version and the store's sources, migrations included), so a
 * test never opens a seed older than the migrations it tests. Git ignores both
 * files. The one test of a directory initialised from nothing asks for no seed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPgliteStore } from '../../src/store/pglite/pglite-store.js';
import { buildSeed, DEFAULT_SEED_DIR, isInitialised } from '../../src/store/pglite/seed.js';

const STORE = fileURLToPath(new URL('../../src/store/', import.meta.url));
const KEY_FILE = `${DEFAULT_SEED_DIR}.key`;

/** What the seed is made of: PGlite's package and the store's non-test sources. */
function seedKey(): string {
  const hash = createHash('sha256');
  hash.update(
    readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)),
  );
  for (const dir of ['pglite', 'sql']) {
    for (const f of readdirSync(join(STORE, dir)).sort()) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      hash.update(f).update(readFileSync(join(STORE, dir, f)));
    }
  }
  return hash.digest('hex');
}

function readKey(): string | undefined {
  try {
    return readFileSync(KEY_FILE, 'utf8');
  } catch {
    return undefined;
  }
}

export async function setup(): Promise<void> {
  const key = seedKey();
  if (readKey() === key && isInitialised(DEFAULT_SEED_DIR)) return;
  try {
    await buildSeed(DEFAULT_SEED_DIR, async (dir) => {
      const store = await openPgliteStore({ dataDir: dir, seedDir: null, syncCommits: false });
      await store.close();
    });
  } catch (e) {
    // Another run started at the same time renamed its seed into place first.
    if (!isInitialised(DEFAULT_SEED_DIR)) throw e;
  }
  await writeFile(KEY_FILE, key);
}
