import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, pgliteDir } from './open-store.js';

describe('openStore', () => {
  it('opens embedded PGlite under <dataDir>/pg when no database URL is set', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vnp-open-'));
    try {
      const store = await openStore({ dataDir, databaseUrl: '' });
      try {
        expect(store.backend).toBe('pglite');
        expect((await stat(join(pgliteDir(dataDir), 'PG_VERSION'))).isFile()).toBe(true);
        expect(await store.revision()).toBe(0);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
