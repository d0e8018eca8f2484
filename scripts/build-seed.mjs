// Part of `npm run build` (after tsc): pre-initialise the embedded database that a
// new data directory is copied from (src/store/pglite/seed.ts). Not fatal: without
// a seed the manager initialises a new directory itself, only more slowly.
import { buildSeed, DEFAULT_SEED_DIR } from '../dist/store/pglite/seed.js';
import { openPgliteStore } from '../dist/store/pglite/pglite-store.js';

try {
  await buildSeed(DEFAULT_SEED_DIR, async (dir) => {
    const store = await openPgliteStore({ dataDir: dir, seedDir: null, syncCommits: false });
    await store.close();
  });
} catch (e) {
  console.warn(
    `vnp build: no pre-initialised database (${e instanceof Error ? e.message : String(e)}); a new data directory will run initdb on its first start`,
  );
}
