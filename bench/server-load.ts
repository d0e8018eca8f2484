/**
 * Server suite, load parts (issue 11): over real HTTP on loopback against a running
 * manager whose model is already applied,
 *  - group commit: durable tag writes per second with 16 concurrent writers, and a
 *    single writer's latency percentiles (each write answered only once durable);
 *  - mixed load: GET, check and tag PATCH in equal parts from 32 concurrent
 *    connections for a fixed time: requests/s, p50/p99 per kind, errors, RSS of the
 *    process (manager and load generator share it) before and after.
 */
import { performance } from 'node:perf_hooks';
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

type Kind = 'get' | 'check' | 'tag';

/**
 * One request of `kind` on record `i` (modulo the records); a tag write sets `seq` to
 * `value` (default `i`), which must differ from the record's current value, or the write
 * changes nothing and commits nothing. Resolves to ok or not.
 */
async function request(t: LoadTarget, kind: Kind, i: number, value = i): Promise<boolean> {
  const r = i % t.records;
  const res =
    kind === 'get'
      ? await fetch(`${t.base}/v1/interfaces/r${r}`, { headers: t.headers })
      : kind === 'check'
        ? await fetch(`${t.base}/v1/check`, {
            method: 'POST',
            headers: t.headers,
            body: JSON.stringify({
              src: `r${r}`,
              dst: `r${(i * 13 + 1) % t.records}`,
              protocol: 'tcp',
              port: 443,
            }),
          })
        : await fetch(`${t.base}/v1/interfaces/r${r}/tags`, {
            method: 'PATCH',
            headers: t.headers,
            body: JSON.stringify({ set: { seq: value } }),
          });
  await res.arrayBuffer();
  return res.ok;
}

/** `workers` loops running `step(worker, i)` until `seconds` pass; latencies by label. */
async function timedLoops(
  workers: number,
  seconds: number,
  step: (worker: number, i: number) => { kind: Kind; run: Promise<boolean> },
): Promise<{ lat: Record<Kind, number[]>; errors: Record<Kind, number>; secs: number }> {
  const lat: Record<Kind, number[]> = { get: [], check: [], tag: [] };
  const errors: Record<Kind, number> = { get: 0, check: 0, tag: 0 };
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        const { kind, run } = step(w, i);
        const ok = await run.catch(() => false);
        lat[kind].push(performance.now() - t);
        if (!ok) errors[kind]++;
      }
    }),
  );
  return { lat, errors, secs: (performance.now() - t0) / 1000 };
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
  const many = await timedLoops(opts.writers, opts.seconds, (w, i) => ({
    kind: 'tag',
    run: request(t, 'tag', w * stride + (i % stride), i),
  }));
  const single: number[] = [];
  let errors = many.errors.tag;
  for (let i = 0; i < opts.single; i++) {
    const s = performance.now();
    if (!(await request(t, 'tag', i, -1 - i).catch(() => false))) errors++;
    single.push(performance.now() - s);
  }
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
  const run = await timedLoops(opts.connections, opts.seconds, (w, i) => {
    const kind = kinds[(w + i) % 3]!;
    return { kind, run: request(t, kind, w * 7919 + i) };
  });
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
