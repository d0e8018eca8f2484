import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VnpError } from '../../src/model/errors.js';
import { Manager } from '../../src/server/manager.js';
import { openStore } from '../../src/store/open-store.js';
import type {
  ChangeRecord,
  CommitRequest,
  GroupIdentityClaim,
  Store,
} from '../../src/store/types.js';

let dir: string;
let store: Store;
/** The store as the manager sees it: deaf to commits, so staleness is ours to arrange. */
let deaf: Store;
let commits: CommitRequest[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vnp-manager-'));
  store = await openStore({ dataDir: dir });
  commits = [];
  deaf = Object.assign(Object.create(store) as Store, {
    onCommit: async () => () => {},
    commit: (req: CommitRequest) => {
      commits.push(req);
      return store.commit(req);
    },
    commitGroup: (reqs: CommitRequest[], ids?: GroupIdentityClaim) => {
      commits.push(...reqs);
      return store.commitGroup(reqs, ids);
    },
  });
});
afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Another writer (a second manager) commits at `baseRevision`, straight to the store. */
const otherWriter = (
  baseRevision: number,
  action: string,
  puts: CommitRequest['puts'],
  deletes: CommitRequest['deletes'],
): Promise<unknown> =>
  store.commit({
    baseRevision,
    actor: 'other',
    action,
    puts,
    deletes,
    at: new Date().toISOString(),
  });

describe('Manager', () => {
  it('catches up and retries once when another writer moved the store', async () => {
    const m = new Manager({ store: deaf });
    await m.start();
    const base = m.revision;
    // Another manager writes: ours does not hear of it.
    await otherWriter(base, 'x', [{ kind: 'Instance', name: 'theirs', host: 'h' }], []);
    commits = [];
    const { record } = await m.write({ actor: 'me', action: 'y' }, () => ({
      changes: [{ op: 'put', doc: { kind: 'Instance', name: 'mine', host: 'h' } }],
      result: undefined,
    }));
    expect(commits.map((c) => c.baseRevision)).toEqual([base, base + 1]);
    expect(record!.revision).toBe(base + 2);
    expect(m.revision).toBe(base + 2);
    expect(m.engine.get('Instance', 'theirs')).toBeDefined();
    expect(m.engine.get('Instance', 'mine')).toMatchObject({ revision: base + 2 });
    await m.close();
  });

  it('gives up after one retry with VNP_ERR_CONFLICT, leaving memory unchanged', async () => {
    const busy = Object.assign(Object.create(deaf) as Store, {
      commit: async () => {
        throw new VnpError('VNP_ERR_CONFLICT', 'revision moved');
      },
      commitGroup: async () => {
        throw new VnpError('VNP_ERR_CONFLICT', 'revision moved');
      },
    });
    const m = new Manager({ store: busy });
    await m.start();
    const rev = m.revision;
    let plans = 0;
    const write = m.write({ actor: 'me', action: 'z' }, () => {
      plans++;
      return {
        changes: [{ op: 'put', doc: { kind: 'Instance', name: 'race', host: 'h' } }],
        result: undefined,
      };
    });
    await expect(write).rejects.toMatchObject({ code: 'VNP_ERR_CONFLICT' });
    expect(plans).toBe(2);
    expect(m.revision).toBe(rev);
    expect(m.engine.get('Instance', 'race')).toBeUndefined();
    await m.close();
  });

  it('changes nothing when a plan or validation refuses', async () => {
    const m = new Manager({ store: deaf });
    await m.start();
    const rev = m.revision;
    const storeRev = await store.revision();
    const refused = m.write({ actor: 'me', action: 'bad' }, () => ({
      changes: [
        {
          op: 'put',
          doc: { kind: 'Interface', name: 'x', subnet: 'nosuch', ips: ['10.0.0.1'], tags: {} },
        },
      ],
      result: undefined,
    }));
    await expect(refused).rejects.toBeInstanceOf(VnpError);
    await expect(
      m.write({ actor: 'me', action: 'bad' }, () => {
        throw new VnpError('VNP_ERR_NOT_FOUND', 'nope');
      }),
    ).rejects.toMatchObject({ code: 'VNP_ERR_NOT_FOUND' });
    expect(m.revision).toBe(rev);
    expect(await store.revision()).toBe(storeRev);
    expect(m.engine.get('Interface', 'x')).toBeUndefined();
    await m.close();
  });

  it('follows commits it hears about, in order, and tells listeners', async () => {
    const m = new Manager({ store });
    await m.start();
    const seen: number[] = [];
    m.onRecord((r: ChangeRecord) => seen.push(r.revision));
    const base = m.revision;
    await otherWriter(base, 'a', [{ kind: 'Instance', name: 'f1', host: 'h' }], []);
    await otherWriter(base + 1, 'b', [], [{ kind: 'Instance', name: 'f1' }]);
    for (let i = 0; i < 200 && m.revision < base + 2; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(m.revision).toBe(base + 2);
    expect(seen).toEqual([base + 1, base + 2]);
    expect(m.engine.get('Instance', 'f1')).toBeUndefined();
    await m.close();
  });

  it('reads no change log for its own commits, and still follows another writer', async () => {
    let reads = 0;
    const counted = Object.assign(Object.create(store) as Store, {
      changesSince: (since: number, limit?: number) => {
        reads++;
        return store.changesSince(since, limit);
      },
    });
    const m = new Manager({ store: counted });
    await m.start();
    const put = (name: string) => () => ({
      changes: [{ op: 'put' as const, doc: { kind: 'Instance' as const, name, host: 'h' } }],
      result: undefined,
    });
    const ctx = { actor: 'test', action: 'put' };
    // Whatever the store reported is handled under the lock before a later write runs.
    const drained = () => m.write(ctx, () => ({ changes: [], result: undefined, commit: false }));
    await drained();
    reads = 0;
    await m.write(ctx, put('own1'));
    await Promise.all([m.write(ctx, put('own2')), m.write(ctx, put('own3'))]);
    await drained();
    expect(reads).toBe(0);
    const base = m.revision;
    await otherWriter(base, 'other', [{ kind: 'Instance', name: 'theirs', host: 'h' }], []);
    for (let i = 0; i < 200 && m.revision < base + 1; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(m.engine.get('Instance', 'theirs')).toBeDefined();
    expect(reads).toBeGreaterThan(0);
    await m.close();
  });

  it('reloads from the store when the change log has a gap', async () => {
    const m = new Manager({ store: deaf });
    await m.start();
    const base = m.revision;
    await otherWriter(base, 'a', [{ kind: 'Instance', name: 'g1', host: 'h' }], []);
    await otherWriter(base + 1, 'b', [{ kind: 'Instance', name: 'g2', host: 'h' }], []);
    // Pretend revision base+1 was compacted away.
    const gappy = Object.assign(Object.create(deaf) as Store, {
      changesSince: async (since: number, limit?: number) =>
        (await store.changesSince(since, limit)).filter((r) => r.revision !== base + 1),
    });
    (m as unknown as { store: Store }).store = gappy;
    await m.catchUp();
    expect(m.revision).toBe(base + 2);
    expect(m.engine.get('Instance', 'g1')).toBeDefined();
    expect(m.engine.get('Instance', 'g2')).toBeDefined();
    await m.close();
  });
});
