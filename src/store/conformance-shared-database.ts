/**
 * Store conformance: several stores on one database (commits announced to the others).
 */
import { expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { req, subnet, type Fresh, type Open } from './conformance-support.js';
import type { Store } from './types.js';

export function describeSharedDatabase(fresh: Fresh, open: Open): void {
  it('serializes concurrent writers on one database into consecutive revisions', async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    const winners = new Map<number, string>();
    const writer = async (store: Store, who: string, count: number): Promise<void> => {
      for (let done = 0; done < count;) {
        const base = await store.revision();
        try {
          const r = await store.commit(req(base, { actor: who, puts: [subnet(`${who}-${done}`)] }));
          expect(r.revision).toBe(base + 1);
          expect(winners.has(r.revision)).toBe(false);
          winners.set(r.revision, who);
          done++;
        } catch (e) {
          if (!(e instanceof VnpError) || e.code !== 'VNP_ERR_CONFLICT') throw e;
        }
      }
    };
    await Promise.all([
      writer(a, 'a', 15),
      writer(b, 'b', 15),
      writer(a, 'c', 10),
      writer(b, 'd', 10),
    ]);
    const log = await b.changesSince(0);
    expect(log.map((c) => c.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(log.map((c) => c.actor)).toEqual(
      [...winners.keys()].sort((x, y) => x - y).map((r) => winners.get(r)),
    );
    expect((await a.loadAll()).documents.length).toBe(50);
  });

  it('lets exactly one of two stores win the same base revision', async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    for (let base = 0; base < 10; base++) {
      const results = await Promise.allSettled([a.commit(req(base)), b.commit(req(base))]);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
    }
    expect(await a.revision()).toBe(10);
  });

  it("tells a second store's onCommit listeners about the first store's commits", async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    const heard: number[] = [];
    await b.onCommit((rev) => heard.push(rev));
    await a.commit(req(0, { puts: [subnet('x')] }));
    await a.commit(req(1));
    await expect.poll(() => heard.at(-1), { timeout: 5000 }).toBe(2);
    expect(heard).toEqual([...heard].sort((x, y) => x - y));
  });
}
