/**
 * The flow hub writes records at once and the aggregates once a period (ADR 0048),
 * stretched after a slow write (ADR 0070): a record is listed after the next flush
 * while the summary waits for the period, `flush()` and `stop()` write both, and a
 * failed aggregate write is counted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FlowRecord } from '../../model/flow.js';
import { openStore, type Store } from '../../store/index.js';
import { DEFAULT_FLOW_RETENTION, FlowHub, type FlowHubOptions } from './flow-hub.js';

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vnp-flow-hub-'));
  store = await openStore({ dataDir: dir });
});
afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const record = (s: number): FlowRecord => ({
  time: new Date(T + s * 1000).toISOString(),
  host: 'h1',
  src: { address: '10.0.0.5', port: 40000 + s, record: 'web-1', identity: 300, partitions: [] },
  dst: { address: '10.0.1.7', port: 5432, record: 'db-1', identity: 301, partitions: [] },
  protocol: 'tcp',
  port: 5432,
  verdict: 'allow',
  egress: { verdict: 'allow', policy: 'web', rule: 'egress[0]' },
  state: 'new',
});
const since = new Date(T - 60_000).toISOString();
const counted = async (s: Store) => (await s.flowSummary(since)).reduce((n, r) => n + r.count, 0);

it('lists records after the next flush and sums the aggregates once a period', async () => {
  let now = T;
  const errors: unknown[] = [];
  const hub = new FlowHub({
    store,
    now: () => now,
    retention: DEFAULT_FLOW_RETENTION,
    partitionsOf: () => ['web'],
    onError: (e) => void errors.push(e),
    flushMs: 10,
    aggregateMs: 1000,
  });
  hub.start();
  try {
    hub.submit('h1', { records: [record(1), record(2)] });
    await expect.poll(async () => (await store.listFlows({ limit: 10 })).length).toBe(2);
    hub.submit('h1', { records: [record(3)] });
    await expect.poll(async () => (await store.listFlows({ limit: 10 })).length).toBe(3);
    // The first tick wrote the aggregates (none written yet); the next waits a period.
    expect(await counted(store)).toBeLessThan(3);
    now += 1000;
    await expect.poll(() => counted(store)).toBe(3);
    hub.submit('h1', { records: [record(4)] });
    await hub.flush();
    expect(await counted(store)).toBe(4);
    expect((await store.listFlows({ limit: 1 }))[0]!.src.partitions).toEqual(['web']);
    expect(hub.stats).toMatchObject({ stored: 4, failed: 0, failedAggregates: 0 });
    expect(errors).toEqual([]);
  } finally {
    await hub.stop();
  }
});

/** The test store, with `before` run ahead of each aggregate write. */
function aggregatesSpied(before: () => void): Store {
  return Object.create(store, {
    addFlowAggregates: {
      value: (a: Parameters<Store['addFlowAggregates']>[0]) => (
        before(),
        store.addFlowAggregates(a)
      ),
    },
  }) as Store;
}

/** A hub on `s` for the aggregate-period tests. */
const quietHub = (s: Store, now: () => number, o: Partial<FlowHubOptions>) =>
  new FlowHub({
    store: s,
    now,
    retention: DEFAULT_FLOW_RETENTION,
    partitionsOf: () => [],
    onError: () => undefined,
    ...o,
  });

it('writes a full queue at once but leaves the aggregates to their period', async () => {
  let writes = 0;
  const hub = quietHub(
    aggregatesSpied(() => writes++),
    () => T,
    { batchSize: 2 },
  );
  const before = hub.stats.stored;
  hub.submit('h1', { records: [record(20), record(21)] });
  await hub.flushRecords();
  expect(hub.stats.stored - before).toBe(2);
  expect(writes).toBe(0);
  await hub.stop();
  expect(writes).toBe(1);
});

it('stretches the aggregate period to 20 times the last write, up to 10 s (ADR 0070)', async () => {
  let now = T;
  let writes = 0;
  // Each aggregate write takes 100 ms by the hub's clock: the next waits 2 s, not 1 s.
  const slow = aggregatesSpied(() => {
    writes++;
    now += 100;
  });
  const hub = quietHub(slow, () => now, { flushMs: 10, aggregateMs: 1000 });
  hub.start();
  try {
    hub.submit('h1', { records: [record(10)] });
    await expect.poll(() => writes).toBe(1);
    hub.submit('h1', { records: [record(11)] });
    now += 1000;
    await new Promise((r) => setTimeout(r, 100));
    expect(writes).toBe(1);
    now += 1000;
    await expect.poll(() => writes).toBe(2);
  } finally {
    await hub.stop();
  }
});

it('counts aggregate rows the store refused, and reports them', async () => {
  const errors: string[] = [];
  const failing: Store = Object.create(store, {
    addFlowAggregates: { value: () => Promise.reject(new Error('disk full')) },
  });
  const hub = new FlowHub({
    store: failing,
    now: () => T,
    retention: DEFAULT_FLOW_RETENTION,
    partitionsOf: () => [],
    onError: (_e, what) => void errors.push(what),
  });
  hub.submit('h1', { records: [record(5)] });
  await hub.stop();
  expect(hub.stats).toMatchObject({ stored: 1, failedAggregates: 2 });
  expect(errors).toEqual(['storing flow aggregates']);
});
