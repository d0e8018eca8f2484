import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VnpError } from '../../model/errors.js';
import { defineStoreConformance } from '../conformance.js';
import { PGlite } from '@electric-sql/pglite';
import { pgliteClient } from './pglite-client.js';
import { openPgliteStore } from './pglite-store.js';
import { MODEL_CACHE_FILE } from './model-cache.js';
import { buildSeed, isInitialised } from './seed.js';

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
  raw: async (dataDir) => {
    const db = await PGlite.create({ dataDir });
    return { client: pgliteClient(db), close: () => db.close() };
  },
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('pglite data directory', () => {
  it('refuses a second store on a directory in use, and allows it after close', async () => {
    const dataDir = join(root, `db-${n++}`);
    // No seed: the one test of a directory initialised from nothing (tests have a seed
    // beside the sources, test/support/pglite-seed-setup.ts).
    const first = await openPgliteStore({ dataDir, seedDir: null });
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

describe('pglite seed (a pre-initialised database copied instead of initdb)', () => {
  const commit = {
    actor: 'test',
    action: 'create',
    puts: [{ kind: 'Subnet' as const, name: 'a', cidr: '10.0.0.0/24' }],
    deletes: [],
    at: '2026-01-01T00:00:00.000Z',
  };

  it('a new directory opened with a seed is a working, migrated, durable store', async () => {
    const dataDir = join(root, `db-${n++}`);
    const store = await openPgliteStore({ dataDir, seedDir: template });
    expect(await store.loadAll()).toEqual({ revision: 0, documents: [] });
    await store.commit({ ...commit, baseRevision: 0 });
    await store.close();
    // The seed is only ever copied into an uninitialised directory.
    const again = await openPgliteStore({ dataDir, seedDir: template });
    expect((await again.loadAll()).documents.map((d) => d.name)).toEqual(['a']);
    await again.close();
    expect(isInitialised(template)).toBe(true);
  });

  it('a copy cut short (no PG_VERSION yet) is copied over on the next open', async () => {
    const dataDir = join(root, `db-${n++}`);
    await mkdir(join(dataDir, 'base'), { recursive: true });
    await writeFile(join(dataDir, 'base', 'half-copied'), 'x');
    const store = await openPgliteStore({ dataDir, seedDir: template });
    expect((await store.loadAll()).revision).toBe(0);
    await store.close();
  });

  it('buildSeed replaces the seed only with an initialised database', async () => {
    const seedDir = join(root, `seed-${n++}`);
    await expect(buildSeed(seedDir, async () => undefined)).rejects.toThrow(
      /no database was initialised/,
    );
    expect(isInitialised(seedDir)).toBe(false);
    await buildSeed(seedDir, (dir) => cp(template, dir, { recursive: true }));
    expect(isInitialised(seedDir)).toBe(true);
    expect((await readdir(root)).filter((f) => f.startsWith('.seed-build-'))).toEqual([]);
  });
});

describe('pglite model cache (the documents loadAll answered, written at close)', () => {
  const put = (cidr: string, baseRevision: number) => ({
    actor: 'test',
    action: 'create',
    puts: [{ kind: 'Subnet' as const, name: 'a', cidr }],
    deletes: [],
    at: '2026-01-01T00:00:00.000Z',
    baseRevision,
  });
  const cidrOf = async (store: Awaited<ReturnType<typeof openPgliteStore>>) =>
    (await store.loadAll()).documents.map((d) => (d as { cidr?: string }).cidr);

  it('answers loadAll from the cache only while the database stands at its revision and count', async () => {
    const dataDir = join(root, `db-${n++}`);
    await cp(template, dataDir, { recursive: true });
    const store = await openPgliteStore({ dataDir });
    await store.commit(put('10.0.0.0/24', 0));
    await store.close();
    const file = join(dataDir, MODEL_CACHE_FILE);
    expect((await readFile(file, 'utf8')).split('\n')[0]).toBe(
      '{"revision":1,"count":1,"format":2}',
    );

    // A cache whose key matches is what loadAll answers (an edited row shows it is read).
    await writeFile(file, (await readFile(file, 'utf8')).replace('10.0.0.0/24', '10.9.0.0/24'));
    const cached = await openPgliteStore({ dataDir });
    expect(await cidrOf(cached)).toEqual(['10.9.0.0/24']);
    // One that no longer matches (the database moved on) is ignored, then rewritten at close.
    await cached.commit(put('10.1.0.0/24', 1));
    expect(await cidrOf(cached)).toEqual(['10.1.0.0/24']);
    await cached.close();
    await writeFile(file, (await readFile(file, 'utf8')).replace('"revision":2', '"revision":1'));
    const stale = await openPgliteStore({ dataDir });
    expect(await cidrOf(stale)).toEqual(['10.1.0.0/24']);
    await stale.close();
    expect((await readFile(file, 'utf8')).split('\n')[0]).toBe(
      '{"revision":2,"count":1,"format":2}',
    );

    // A file that does not parse is no cache, nor is one of another format (the rows
    // the query answered, as the first format held them).
    await writeFile(file, '{"revision":2,"count":1,"format":2}\n{"documents":[{"kind":');
    const broken = await openPgliteStore({ dataDir });
    expect(await cidrOf(broken)).toEqual(['10.1.0.0/24']);
    await broken.close();
    const rows = `[{"kind":"Subnet","name":"a","doc":{"kind":"Subnet","name":"a","cidr":"10.7.0.0/24"},"revision":2,"created_at":"2026-01-01T00:00:00+00:00","updated_at":"2026-01-01T00:00:00+00:00"}]`;
    await writeFile(file, `{"revision":2,"count":1}\n${rows}`);
    const older = await openPgliteStore({ dataDir });
    expect(await cidrOf(older)).toEqual(['10.1.0.0/24']);
    await older.close();
  });

  it('hands back a validation stamp only with the documents of the revision it was given for', async () => {
    const dataDir = join(root, `db-${n++}`);
    await cp(template, dataDir, { recursive: true });
    const file = join(dataDir, MODEL_CACHE_FILE);
    const store = await openPgliteStore({ dataDir });
    await store.commit(put('10.0.0.0/24', 0));
    store.markValidated?.(0, 'rules/1'); // not the revision the database stands at
    await store.close();
    const unstamped = await openPgliteStore({ dataDir });
    expect((await unstamped.loadAll()).validatedBy).toBeUndefined();
    // Vouched for at the current revision: the same cache, rewritten with the stamp.
    unstamped.markValidated?.(1, 'rules/1');
    await unstamped.close();
    expect((await readFile(file, 'utf8')).split('\n')[0]).toBe(
      '{"revision":1,"count":1,"format":2,"validatedBy":"rules/1"}',
    );
    const stamped = await openPgliteStore({ dataDir });
    expect(await stamped.loadAll()).toMatchObject({ revision: 1, validatedBy: 'rules/1' });
    // A commit after the stamp: the cache written at close carries none.
    await stamped.commit(put('10.1.0.0/24', 1));
    expect((await stamped.loadAll()).validatedBy).toBeUndefined();
    await stamped.close();
    expect((await readFile(file, 'utf8')).split('\n')[0]).toBe(
      '{"revision":2,"count":1,"format":2}',
    );
  });
});
