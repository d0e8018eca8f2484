/**
 * Store conformance, flows (part of the suite in conformance.ts): batched inserts,
 * every filter, paging, the per-minute aggregate, replay tuples and retention, on
 * every backend.
 */
import { expect, it } from 'vitest';
import type { FlowRecord } from '../model/flow.js';
import { FlowAggregator } from './flow-aggregator.js';
import type { FlowTuple, Store } from './types.js';

type Fresh = () => Promise<{ store: Store; location: string }>;

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const none = { records: [], cidrs: [], identities: [] };

/** A flow record from web-1 (10.0.0.5, identity 300) to db-1 (10.0.1.7, identity 301). */
export function flow(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    time: at(0),
    host: 'h1',
    src: { address: '10.0.0.5', port: 40000, record: 'web-1', identity: 300, partitions: ['web'] },
    dst: { address: '10.0.1.7', port: 5432, record: 'db-1', identity: 301, partitions: ['db'] },
    protocol: 'tcp',
    port: 5432,
    verdict: 'allow',
    egress: { verdict: 'allow', policy: 'web', rule: 'egress[0]' },
    state: 'new',
    ...over,
  };
}

const denied = (over: Partial<FlowRecord> = {}) =>
  flow({
    verdict: 'deny',
    egress: { verdict: 'deny', policy: 'lockdown', rule: 'egress[1]' },
    ...over,
  });
const outside = (over: Partial<FlowRecord> = {}) =>
  flow({
    host: 'h2',
    src: { address: '192.0.2.9', port: 1234, identity: 1, partitions: [] },
    egress: undefined,
    ingress: { verdict: 'deny', default: 'deny' },
    verdict: 'deny',
    ...over,
  });

/**
 * The flow tests.
 *
 * @example describeFlows(fresh);
 */
export function describeFlows(fresh: Fresh): void {
  it('stores batches in order with increasing ids; filters; pages newest first', async () => {
    const { store } = await fresh();
    const a = await store.insertFlows([flow(), denied({ time: at(1) })]);
    const b = await store.insertFlows([outside({ time: at(2) })]);
    expect(a[0]!.id).toBeLessThan(a[1]!.id);
    expect(a[1]!.id).toBeLessThan(b[0]!.id);
    const all = await store.listFlows({ limit: 10 });
    expect(all.map((f) => f.id)).toEqual([b[0]!.id, a[1]!.id, a[0]!.id]);
    expect(all[2]).toEqual({ id: a[0]!.id, ...flow() });
    expect(await store.insertFlows([])).toEqual([]);
    // Filters (on the three records above).
    const ids = async (q: Parameters<Store['listFlows']>[0]) =>
      (await store.listFlows(q)).map((f) => f.time);
    expect(await ids({ verdict: 'deny', limit: 10 })).toEqual([at(2), at(1)]);
    expect(await ids({ host: 'h2', limit: 10 })).toEqual([at(2)]);
    expect(await ids({ policy: 'lockdown', limit: 10 })).toEqual([at(1)]);
    expect(await ids({ since: at(1), until: at(2), limit: 10 })).toEqual([at(1)]);
    expect(await ids({ from: { ...none, records: ['web-1'] }, limit: 10 })).toEqual([at(1), at(0)]);
    expect(await ids({ from: { ...none, cidrs: ['192.0.2.0/24'] }, limit: 10 })).toEqual([at(2)]);
    expect(await ids({ from: { ...none, identities: [1] }, limit: 10 })).toEqual([at(2)]);
    expect(
      await ids({ to: { ...none, cidrs: ['10.0.1.7/32'] }, verdict: 'allow', limit: 10 }),
    ).toEqual([at(0)]);
    expect(await ids({ to: none, limit: 10 })).toEqual([]);
    // Values are parameters, never SQL.
    expect(await ids({ host: "h1' OR '1'='1", limit: 10 })).toEqual([]);
    // Paging, newest first with `before` (host h9 only).
    await store.insertFlows(Array.from({ length: 7 }, (_, i) => flow({ host: 'h9', time: at(i) })));
    const seen: string[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await store.listFlows({
        host: 'h9',
        limit: 3,
        ...(before !== undefined ? { before } : {}),
      });
      seen.push(...page.map((f) => f.time));
      if (page.length < 3) break;
      before = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => at(6 - i)));
    // Bulk-loaded text round-trips exactly: COPY's escapes, array quoting, ICMP without
    // ports, a code, counts, and fields the store has no column for.
    const odd = flow({
      time: at(3),
      host: 'h\t1\\n"x"',
      src: { address: 'fd00::1', record: 'a\nb', identity: 7, partitions: ['p,q', 'r"s', '\\N'] },
      dst: { address: '10.0.1.7', identity: 1, partitions: [] },
      protocol: 'icmp',
      port: 8,
      code: 0,
      egress: { verdict: 'allow', policy: 'p{1}', rule: 'egress[0]', logged: true },
      ingress: { verdict: 'allow', default: 'allow' },
      packets: 3,
      bytes: 9_000_000_000,
    });
    const [stored] = await store.insertFlows([odd]);
    expect((await store.listFlows({ limit: 1 }))[0]).toEqual({ id: stored!.id, ...odd });
    expect((await store.listFlows({ policy: 'p{1}', limit: 5 })).map((f) => f.id)).toEqual([
      stored!.id,
    ]);
    expect((await store.listFlows({ host: odd.host, limit: 5 })).map((f) => f.id)).toEqual([
      stored!.id,
    ]);
  });

  it('keeps a per-minute aggregate: connections and bytes per edge and deciding rule', async () => {
    const { store } = await fresh();
    await store.insertFlows([flow(), flow({ time: at(5) }), denied({ time: at(6) })]);
    await store.insertFlows([
      flow({ time: at(61), state: 'closed', packets: 10, bytes: 1500 }),
      flow({ time: at(62) }),
    ]);
    const rows = await store.flowSummary(at(0));
    expect(rows).toEqual([
      {
        first: at(0),
        last: at(60),
        srcIdentity: 300,
        dstIdentity: 301,
        protocol: 'tcp',
        port: 5432,
        verdict: 'allow',
        policy: 'web',
        rule: 'egress[0]',
        count: 3,
        bytes: 1500,
      },
      expect.objectContaining({ verdict: 'deny', policy: 'lockdown', rule: 'egress[1]', count: 1 }),
    ]);
    expect((await store.flowSummary(at(60)))[0]).toMatchObject({ count: 1, bytes: 1500 });
    expect(await store.flowSummary(at(0), at(60))).toHaveLength(2);
    // A default is named policy "" and rule "default".
    await store.insertFlows([outside({ time: at(7200) })]);
    expect(await store.flowSummary(at(7200))).toEqual([
      expect.objectContaining({ srcIdentity: 1, policy: '', rule: 'default', count: 1 }),
    ]);
  });

  it('counts each connection once for replays', async () => {
    const { store } = await fresh();
    // web-1 → db-1 reported by both hosts (egress at h1, ingress at h2), twice.
    const ingressOnly = flow({
      host: 'h2',
      egress: undefined,
      ingress: { verdict: 'allow', default: 'allow' },
    });
    await store.insertFlows([flow(), ingressOnly, flow({ time: at(3) }), ingressOnly]);
    await store.insertFlows([flow({ state: 'closed', bytes: 5 }), outside(), outside()]);
    const tuples = await store.flowTuples(at(0));
    expect(tuples.sort((a, b) => a.src.localeCompare(b.src))).toEqual([
      { src: '10.0.0.5', dst: '10.0.1.7', protocol: 'tcp', port: 5432, verdict: 'allow', count: 2 },
      { src: '192.0.2.9', dst: '10.0.1.7', protocol: 'tcp', port: 5432, verdict: 'deny', count: 2 },
    ]);
    // Whole minutes, as the aggregate keeps them.
    expect(await store.flowTuples(at(59))).toHaveLength(2);
    expect(await store.flowTuples(at(60))).toEqual([]);
    expect(await store.flowTuples(at(0), at(59))).toEqual([]);
    await store.insertFlows([flow({ time: at(61) })]);
    expect(await store.flowTuples(at(0), at(120))).toContainEqual(
      expect.objectContaining({ src: '10.0.0.5', count: 3 }),
    );
    expect(await store.flowTuples(at(60))).toEqual([
      expect.objectContaining({ src: '10.0.0.5', count: 1 }),
    ]);
  });

  it('leaves the aggregates to a caller who sums batches, and adds its sums as inserts would', async () => {
    const batches = [
      [flow(), denied({ time: at(6) }), outside({ time: at(7) })],
      [flow({ time: at(61), state: 'closed', packets: 10, bytes: 1500 }), flow({ time: at(62) })],
    ];
    const { store: inline } = await fresh();
    for (const b of batches) await inline.insertFlows(b);
    const { store } = await fresh();
    const sums = new FlowAggregator();
    for (const b of batches) {
      await store.insertFlows(b, { aggregate: false });
      sums.add(b);
    }
    expect(await store.listFlows({ limit: 10 })).toHaveLength(5);
    expect(await store.flowSummary(at(0))).toEqual([]);
    expect(await store.flowTuples(at(0))).toEqual([]);
    await store.addFlowAggregates(sums.drain());
    expect(sums.size).toBe(0);
    expect(await store.flowSummary(at(0))).toEqual(await inline.flowSummary(at(0)));
    const key = (tuple: FlowTuple) => `${tuple.src} ${tuple.port} ${tuple.verdict}`;
    const sorted = (ts: FlowTuple[]) => ts.sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(await store.flowTuples(at(0)))).toEqual(sorted(await inline.flowTuples(at(0))));
    expect((await store.flowSummary(at(0))).reduce((n, r) => n + r.count, 0)).toBe(4);
  });

  it('prunes by age and by row count, newest kept', async () => {
    const { store } = await fresh();
    await store.insertFlows(Array.from({ length: 10 }, (_, i) => flow({ time: at(i * 10) })));
    expect(await store.pruneFlows({ before: at(20), maxRows: 1000 })).toBe(3);
    expect((await store.listFlows({ limit: 100 })).map((f) => f.time).at(-1)).toBe(at(30));
    expect(await store.pruneFlows({ before: at(0), maxRows: 4 })).toBe(3);
    expect((await store.listFlows({ limit: 100 })).map((f) => f.time)).toEqual([
      at(90),
      at(80),
      at(70),
      at(60),
    ]);
    // Aggregate minutes go once wholly before the cut.
    await store.pruneFlows({ before: at(120), maxRows: 4 });
    expect(await store.flowSummary(at(0))).toEqual([]);
    expect(await store.flowTuples(at(0))).toEqual([]);
    expect(await store.listFlows({ limit: 10 })).toEqual([]);
  });

  it('finds rows by time after retention summarised the time index, late batches too', async () => {
    const { store } = await fresh();
    // Thousands of rows span several of the BRIN's block ranges; a batch with older
    // times arriving after the summary (an agent's buffer after an outage) must still be found.
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => flow({ time: at(from + (i % 60)) }));
    await store.insertFlows(batch(600, 3000));
    await store.pruneFlows({ before: at(-60), maxRows: 1_000_000 });
    await store.insertFlows(batch(0, 3000));
    await store.pruneFlows({ before: at(-60), maxRows: 1_000_000 });
    await store.insertFlows(batch(1200, 600));
    const count = async (since: number, until: number) =>
      (await store.listFlows({ since: at(since), until: at(until), limit: 10_000 })).length;
    expect(await count(0, 60)).toBe(3000);
    expect(await count(10, 11)).toBe(50);
    expect(await count(600, 660)).toBe(3000);
    expect(await count(1200, 1260)).toBe(600);
    expect(await count(60, 600)).toBe(0);
  });
}
