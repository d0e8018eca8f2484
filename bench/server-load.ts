/**
 * Server suite, load parts (issue 11): over real HTTP on loopback against a running
 * manager whose model is already applied, from a load generator in its own process
 * (bench/server-load-child.ts; the manager stays in the bench's process):
 *  - group commit: durable tag writes per second with 16 concurrent writers, and a
 *    single writer's latency percentiles (each write answered only once durable), with
 *    the manager process's CPU per write in each;
 *  - mixed load: GET, check and tag PATCH in equal parts from 32 concurrent
 *    connections for a fixed time: requests/s, p50/p99 per kind, errors, and the
 *    manager's RSS before and after.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { startCpuProfile } from './cpu-profile.js';

/** Where the load goes: the base URL, an admin's headers and the record count. */
export interface LoadTarget {
  base: string;
  headers: Record<string, string>;
  records: number;
}

/** What the load generator runs (bench/server-load-child.ts). */
export type LoadJob =
  /** One writer changing the app tag back to back; fails on the first error. */
  | { kind: 'writes'; writes: number }
  /** `checks` check requests from `concurrency` loops; fails on the first error. */
  | { kind: 'checks'; checks: number; concurrency: number }
  /** `writers` concurrent tag writers (distinct records) for `seconds`. */
  | { kind: 'concurrent'; writers: number; seconds: number }
  /** One tag writer alone, back to back. */
  | { kind: 'single'; writes: number }
  | { kind: 'mixed'; connections: number; seconds: number };

/** Requests of one kind, as the client timed them. */
export interface Timed {
  count: number;
  secs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

export interface GroupCommitResult {
  writers: number;
  seconds: number;
  writes: number;
  writesPerSec: number;
  /** p50/p99 of the concurrent writes. */
  concurrentP50Ms: number;
  concurrentP99Ms: number;
  /** The manager process's CPU (user + system) per concurrent write. */
  concurrentCpuMsPerWrite: number;
  /** One writer alone, back to back. */
  singleWrites: number;
  singleP50Ms: number;
  singleP99Ms: number;
  singleCpuMsPerWrite: number;
  errors: number;
}

export interface MixedKind {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** The mixed load as the client saw it. */
export interface MixedLoad {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  errors: number;
  kinds: Record<'get' | 'check' | 'tag', MixedKind>;
}

/** The mixed load, with the manager's RSS before and after. */
export interface MixedResult extends MixedLoad {
  rssBeforeMb: number;
  rssAfterMb: number;
}

/** The load generator's process: `run` one job at a time, then `close`. */
export interface LoadClient {
  run(job: LoadJob & { kind: 'mixed' }): Promise<MixedLoad>;
  run(job: LoadJob): Promise<Timed>;
  close(): Promise<void>;
}

/**
 * Forks the load generator, aimed at `target`.
 *
 * @example const client = startLoadClient(target); await client.run({ kind: 'single', writes: 10 });
 */
export function startLoadClient(target: LoadTarget): LoadClient {
  const child: ChildProcess = fork(
    new URL('./server-load-child.ts', import.meta.url).pathname,
    [],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  let next = 0;
  const run = (job: LoadJob) =>
    new Promise<never>((resolve, reject) => {
      const id = next++;
      const onMsg = (m: { id: number; result?: never; error?: string }) => {
        if (m.id !== id) return;
        child.off('message', onMsg);
        child.off('exit', onExit);
        if (m.error !== undefined) reject(new Error(`load client: ${m.error}`));
        else resolve(m.result!);
      };
      const onExit = (code: number) => reject(new Error(`load client exited with ${code}`));
      child.on('message', onMsg);
      child.once('exit', onExit);
      child.send({ id, target, job });
    });
  return {
    run,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/** Runs `job` on the client; the manager process's CPU per request it made. */
async function withCpu(client: LoadClient, job: LoadJob): Promise<Timed & { cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const r = await client.run(job);
  const cpu = process.cpuUsage(cpu0);
  return { ...r, cpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, r.count) };
}

/**
 * Durable writes/s with `writers` concurrent tag writers (distinct records), then one
 * writer alone for `single` writes. With `profile` (a path), the manager is
 * CPU-profiled during the concurrent writes.
 *
 * @example await groupCommitLoad(client, { writers: 16, seconds: 10, single: 500 });
 */
export async function groupCommitLoad(
  client: LoadClient,
  opts: { writers: number; seconds: number; single: number; profile?: string },
): Promise<GroupCommitResult> {
  const stop = opts.profile ? await startCpuProfile() : undefined;
  const many = await withCpu(client, {
    kind: 'concurrent',
    writers: opts.writers,
    seconds: opts.seconds,
  });
  if (stop && opts.profile) await stop(opts.profile);
  const single = await withCpu(client, { kind: 'single', writes: opts.single });
  return {
    writers: opts.writers,
    seconds: many.secs,
    writes: many.count,
    writesPerSec: many.count / many.secs,
    concurrentP50Ms: many.p50Ms,
    concurrentP99Ms: many.p99Ms,
    concurrentCpuMsPerWrite: many.cpuMs,
    singleWrites: opts.single,
    singleP50Ms: single.p50Ms,
    singleP99Ms: single.p99Ms,
    singleCpuMsPerWrite: single.cpuMs,
    errors: many.errors + single.errors,
  };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/**
 * GET, check and tag PATCH in turn from `connections` loops for `seconds`; the RSS is
 * this process's, the manager's.
 *
 * @example await mixedLoad(client, { connections: 32, seconds: 60 });
 */
export async function mixedLoad(
  client: LoadClient,
  opts: { connections: number; seconds: number },
): Promise<MixedResult> {
  const rssBeforeMb = rssMb();
  const load = await client.run({ kind: 'mixed', ...opts });
  return { ...load, rssBeforeMb, rssAfterMb: rssMb() };
}

/** Report lines for one store's load figures. */
export function loadReport(store: string, g: GroupCommitResult, m: MixedResult): string[] {
  const f = (x: number, d = 1) => x.toFixed(d);
  const kind = (k: keyof MixedResult['kinds']) =>
    `${k} ${m.kinds[k].requests} req, p50 ${f(m.kinds[k].p50Ms)} ms, p99 ${f(m.kinds[k].p99Ms)} ms, ${m.kinds[k].errors} errors`;
  return [
    `${store}: group commit, ${g.writers} concurrent writers ${f(g.seconds)} s: ${f(g.writesPerSec, 0)} durable writes/s (p50 ${f(g.concurrentP50Ms)} ms, p99 ${f(g.concurrentP99Ms)} ms; manager CPU ${f(g.concurrentCpuMsPerWrite, 2)} ms/write) — target ≥ 2000: ${g.writesPerSec >= 2000 ? 'MET' : 'MISSED'}`,
    `${store}: single writer, ${g.singleWrites} writes: p50 ${f(g.singleP50Ms, 2)} ms, p99 ${f(g.singleP99Ms, 2)} ms (manager CPU ${f(g.singleCpuMsPerWrite, 2)} ms/write) — target ≤ 10 ms: ${g.singleP99Ms <= 10 ? 'MET' : 'MISSED'}; ${g.errors} errors`,
    `${store}: mixed load, ${m.connections} connections ${f(m.seconds)} s: ${f(m.requestsPerSec, 0)} req/s, ${m.errors} errors, manager RSS ${f(m.rssBeforeMb, 0)} → ${f(m.rssAfterMb, 0)} MB`,
    `${store}:   ${kind('get')}; ${kind('check')}; ${kind('tag')}`,
  ];
}
