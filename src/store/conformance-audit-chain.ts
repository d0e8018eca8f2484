/**
 * Conformance: the audit log's hash chain (docs/adr/0024-audit-chain.md) on every
 * backend — single commits, group commits and event commits chain; an altered,
 * re-hashed or removed entry is named; on a shared database, managers committing at
 * once still build one unbroken chain (appends serialize on the revision row).
 */
import { expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { entryHash, verifyChain, type ChainState } from './audit-chain.js';
import { T1, req, subnet } from './conformance-support.js';
import type { SqlClient } from './sql/sql-client.js';
import type { Store } from './types.js';

type Fresh = () => Promise<{ store: Store; location: string }>;
type Open = (location: string) => Promise<Store>;

async function verify(store: Store): Promise<ChainState> {
  let state: ChainState = { checked: 0, unchained: 0 };
  for (let after = 0; ;) {
    const page = await store.auditChain(after, 2);
    if (page.length === 0 || state.broken) return state;
    state = verifyChain(state, page);
    after = page[page.length - 1]!.revision;
  }
}

/** The store's own SQL client: only a test reaches under the Store to play the attacker. */
function raw(store: Store): SqlClient {
  return (store as unknown as { client: SqlClient }).client;
}

/** Register the chain tests. */
export function describeAuditChain(fresh: Fresh, open: Open, shared: boolean): void {
  it('audit chain: single and group commits link; verification walks it in pages', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('a')] }));
    await store.commitGroup([
      req(1, { puts: [subnet('b', '10.0.1.0/24')] }),
      req(2, { puts: [subnet('c', '10.0.2.0/24')], at: T1 }),
    ]);
    await store.commit(req(3, { deletes: [{ kind: 'Subnet', name: 'a' }], actor: 'admin:x' }));
    const chain = await store.auditChain(0, 100);
    expect(chain.map((e) => e.revision)).toEqual([1, 2, 3, 4]);
    expect(chain[0]!.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.hash);
    const state = await verify(store);
    expect(state).toEqual({ checked: 4, unchained: 0, first: 1, last: 4, head: chain[3]!.hash });
  });

  it('audit chain: an altered, a re-hashed and a removed entry are named', async () => {
    const { store } = await fresh();
    for (let r = 0; r < 5; r++)
      await store.commit(req(r, { puts: [subnet(`s${r}`, `10.0.${r}.0/24`)] }));
    const db = raw(store);
    await db.query(`UPDATE vnp_changes SET actor = 'mallory' WHERE revision = 3`);
    expect((await verify(store)).broken).toEqual({
      revision: 3,
      reason: 'its content does not match its hash: the entry was altered',
    });
    // The attacker re-hashes the altered entry: the next one no longer links to it.
    const [altered] = await store.auditChain(2, 1);
    await db.query(`UPDATE vnp_changes SET hash = $1 WHERE revision = 3`, [
      entryHash(altered!.prevHash!, altered!),
    ]);
    expect((await verify(store)).broken).toMatchObject({ revision: 4 });
    await db.query(`DELETE FROM vnp_changes WHERE revision = 2`);
    expect((await verify(store)).broken).toEqual({
      revision: 3,
      reason: 'revision 2 is missing: the log jumps from 1 to 3',
    });
  });

  if (shared)
    it('audit chain: two managers committing at once on one database build one chain', async () => {
      const { store, location } = await fresh();
      const other = await open(location);
      const writer = async (target: Store, tag: string) => {
        for (let n = 0; n < 8;) {
          try {
            await target.commit(
              req(await target.revision(), {
                puts: [subnet(`${tag}${n}`, `10.${tag === 'a' ? 1 : 2}.${n}.0/24`)],
              }),
            );
            n++;
          } catch (e) {
            // Another manager took the revision: read it and try again, as the manager does.
            if (!(e instanceof VnpError && e.code === 'VNP_ERR_CONFLICT')) throw e;
          }
        }
      };
      await Promise.all([writer(store, 'a'), writer(other, 'b')]);
      const state = await verify(store);
      expect(state.broken).toBeUndefined();
      expect(state.checked).toBe(16);
    });
}
