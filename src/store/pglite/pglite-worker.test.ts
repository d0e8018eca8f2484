import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPgliteAssets } from './pglite-assets.js';
import { PgliteWorker, workerClient } from './pglite-worker.js';

describe('PGlite on a worker thread', () => {
  let dir: string;
  let worker: PgliteWorker;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnp-pglite-worker-'));
    const { wasmModule } = await loadPgliteAssets();
    worker = await PgliteWorker.open(wasmModule, {
      dataDir: dir,
      relaxedDurability: false,
      extraStartParams: ['-c', 'shared_buffers=16MB'],
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs statements with parameters, keeps a transaction whole, rolls back one that throws, and hands errors over with their SQLSTATE', async () => {
    const client = workerClient(worker);
    await client.query('CREATE TABLE t (k text PRIMARY KEY, v jsonb)');
    await client.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES ($1, $2::jsonb)', ['a', '{"n": 1}']);
      await tx.query('INSERT INTO t VALUES ($1, $2::jsonb)', ['b', '{"n": 2}']);
    });
    const failed = await client
      .transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES ($1, $2::jsonb)', ['c', '{}']);
        throw new Error('plan refused');
      })
      .catch((e: unknown) => e);
    expect((failed as Error).message).toBe('plan refused');
    const dup = await client
      .query('INSERT INTO t VALUES ($1, NULL)', ['a'])
      .catch((e: unknown) => e as Error & { code?: string });
    expect(dup).toBeInstanceOf(Error);
    expect((dup as { code?: string }).code).toBe('23505');
    const rows = await client.query<{ k: string; v: { n: number } }>(
      'SELECT k, v FROM t ORDER BY k',
    );
    expect(rows.rows).toEqual([
      { k: 'a', v: { n: 1 } },
      { k: 'b', v: { n: 2 } },
    ]);
    await client.copyIn('COPY t (k) FROM STDIN', Buffer.from('x\ny\n'));
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 4 }]);
    await worker.close();
    await expect(client.query('SELECT 1')).rejects.toThrow(/pglite worker exited/);
  });
});
