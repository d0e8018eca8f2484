import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VnpError } from '../../model/errors.js';
import { defineStoreConformance } from '../conformance.js';
import { openPgliteStore } from './pglite-store.js';

const root = await mkdtemp(join(tmpdir(), 'vnp-pglite-'));
let n = 0;

// initdb takes seconds; each location starts as a copy of one cleanly closed,
// migrated database (the directory test below still initializes from nothing).
const template = join(root, 'template');
await (await openPgliteStore({ dataDir: template })).close();

defineStoreConformance('pglite', {
  blank: async () => {
    const dataDir = join(root, `db-${n++}`);
    await cp(template, dataDir, { recursive: true });
    return dataDir;
  },
  open: (dataDir) => openPgliteStore({ dataDir }),
  shared: false,
  crashBackend: 'pglite',
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('pglite data directory', () => {
  it('refuses a second store on a directory in use, and allows it after close', async () => {
    const dataDir = join(root, `db-${n++}`);
    const first = await openPgliteStore({ dataDir });
    try {
      const e = await openPgliteStore({ dataDir }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(VnpError);
      expect((e as VnpError).code).toBe('VNP_ERR_UNAVAILABLE');
    } finally {
      await first.close();
    }
    const second = await openPgliteStore({ dataDir });
    expect(await second.revision()).toBe(0);
    await second.close();
  });
});
