/**
 * Server suite, load parts (issue 11): over real HTTP on loopback against a running
 * manager whose model is already applied,
 *  - group commit: durable tag writes per second with 16 concurrent writers, and a
 *    single writer's latency percentiles (each write answered only once durable);
 *  - mixed load: GET, check and tag PATCH in equal parts from 32 concurrent
 *    connections for a fixed time: requests/s, p50/p99 per kind, errors, RSS of the
 *    process (manager and load generator share it) before and after.
 * The load generator runs on its own thread (load-client.ts), not the manager's.
 */
import { runLoad, type Kind } from './load-client.js';
import { percentile } from './measure.js';

/** Where the load goes: the base URL, an admin's headers and the record count. */
export interface LoadTarget {
  base: string;
  headers: Record<string, string>;
  records: number;
}

export interface GroupCommitResult {
  writers: number;
  seconds: number;
  writes: number;
  writesPerSec: number;
  /** p50/p99 of the concurrent writes. */
  concurrentP50Ms: number;
  concurrentP99Ms: number;
  /** One writer alone, back to back. */
  singleWrites: number;
  singleP50Ms: number;
  singleP99Ms: number;
  errors: number;
}

export interface MixedKind {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface MixedResult {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  errors: number;
  kinds: Record<'get' | 'check' | 'tag', MixedKind>;
  rssBeforeMb: number;
  rssAfterMb: number;
}

/**
 * Durable writes/s with `writers` concurrent tag writers (distinct records), then one
 * writer alone for `single` writes.
 *
 * @example await groupCommitLoad(target, { writers: 16, seconds: 10, single: 500 });
 */
export async function groupCommitLoad(
  t: LoadTarget,
  opts: { writers: number; seconds: number; single: number },
): Promise<GroupCommitResult> {
  const stride = Math.max(1, Math.floor(t.records / opts.writers));
  // Every write sets a value its record does not hold yet (the loop's counter, then
  // negative ones), so each one commits: a write that changes nothing commits nothing.
  const many = await runLoad(t, {
    mode: 'group',
    workers: opts.writers,
    seconds: opts.seconds,
    stride,
  });
  const alone = await runLoad(t, { mode: 'single', count: opts.single });
  const single = alone.lat.tag;
  const errors = many.errors.tag + alone.errors.tag;
  const writes = many.lat.tag.length;
  return {
    writers: opts.writers,
    seconds: many.secs,
    writes,
    writesPerSec: writes / many.secs,
    concurrentP50Ms: percentile(many.lat.tag, 50),
    concurrentP99Ms: percentile(many.lat.tag, 99),
    singleWrites: opts.single,
    singleP50Ms: percentile(single, 50),
    singleP99Ms: percentile(single, 99),
    errors,
  };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/**
 * GET, check and tag PATCH in turn from `connections` loops for `seconds`.
 *
 * @example await mixedLoad(target, { connections: 32, seconds: 60 });
 */
export async function mixedLoad(
  t: LoadTarget,
  opts: { connections: number; seconds: number },
): Promise<MixedResult> {
  const kinds: Kind[] = ['get', 'check', 'tag'];
  const rssBeforeMb = rssMb();
  const run = await runLoad(t, { mode: 'mixed', workers: opts.connections, seconds: opts.seconds });
  const by = (k: Kind): MixedKind => ({
    requests: run.lat[k].length,
    p50Ms: percentile(run.lat[k], 50),
    p99Ms: percentile(run.lat[k], 99),
    errors: run.errors[k],
  });
  const requests = kinds.reduce((n, k) => n + run.lat[k].length, 0);
  return {
    connections: opts.connections,
    seconds: run.secs,
    requests,
    requestsPerSec: requests / run.secs,
    errors: kinds.reduce((n, k) => n + run.errors[k], 0),
    kinds: { get: by('get'), check: by('check'), tag: by('tag') },
    rssBeforeMb,
    rssAfterMb: rssMb(),
  };
}

/** Report lines for one store's load figures. */
export function loadReport(store: string, g: GroupCommitResult, m: MixedResult): string[] {
  const f = (x: number, d = 1) => x.toFixed(d);
  const kind = (k: Kind) =>
    `${k} ${m.kinds[k].requests} req, p50 ${f(m.kinds[k].p50Ms)} ms, p99 ${f(m.kinds[k].p99Ms)} ms, ${m.kinds[k].errors} errors`;
  return [
    `${store}: group commit, ${g.writers} concurrent writers ${f(g.seconds)} s: ${f(g.writesPerSec, 0)} durable writes/s (p50 ${f(g.concurrentP50Ms)} ms, p99 ${f(g.concurrentP99Ms)} ms) — target ≥ 2000: ${g.writesPerSec >= 2000 ? 'MET' : 'MISSED'}`,
    `${store}: single writer, ${g.singleWrites} writes: p50 ${f(g.singleP50Ms, 2)} ms, p99 ${f(g.singleP99Ms, 2)} ms — target ≤ 10 ms: ${g.singleP99Ms <= 10 ? 'MET' : 'MISSED'}; ${g.errors} errors`,
    `${store}: mixed load, ${m.connections} connections ${f(m.seconds)} s: ${f(m.requestsPerSec, 0)} req/s, ${m.errors} errors, RSS ${f(m.rssBeforeMb, 0)} → ${f(m.rssAfterMb, 0)} MB`,
    `${store}:   ${kind('get')}; ${kind('check')}; ${kind('tag')}`,
  ];
}
