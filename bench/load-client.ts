/**
 * The server suite's HTTP load generator, on its own thread (docs/benchmarks.md,
 * "server"). In the manager's process but not on its main thread: run there, the
 * generator's `fetch` (undici, WHATWG streams) took a quarter to a third of the thread
 * the manager serves from (CPU profiles, ADR 0058) — a cost no real client puts on the
 * manager. The worker runs the same loops the suite ran in process; latencies are
 * taken in the worker, from a request's start to its whole answer read.
 *
 * The program is plain JavaScript run with `eval`, so it needs no TypeScript loader.
 */
import { Worker } from 'node:worker_threads';

/** Which loop the worker runs: concurrent tag writers, the mixed load, or one writer. */
export type LoadPlan =
  | { mode: 'group'; workers: number; seconds: number; stride: number }
  | { mode: 'mixed'; workers: number; seconds: number }
  | { mode: 'single'; count: number };

export type Kind = 'get' | 'check' | 'tag';

/** Latencies (ms) and failures by kind, and the loops' wall time. */
export interface LoadRun {
  lat: Record<Kind, number[]>;
  errors: Record<Kind, number>;
  secs: number;
}

const SOURCE = `
const { parentPort, workerData: d } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const t = d.target;
// One request of kind on record i (modulo the records); a tag write sets seq to value,
// which must differ from the record's current value, or the write commits nothing.
async function request(kind, i, value = i) {
  const r = i % t.records;
  const res =
    kind === 'get'
      ? await fetch(t.base + '/v1/interfaces/r' + r, { headers: t.headers })
      : kind === 'check'
        ? await fetch(t.base + '/v1/check', {
            method: 'POST',
            headers: t.headers,
            body: JSON.stringify({ src: 'r' + r, dst: 'r' + ((i * 13 + 1) % t.records), protocol: 'tcp', port: 443 }),
          })
        : await fetch(t.base + '/v1/interfaces/r' + r + '/tags', {
            method: 'PATCH',
            headers: t.headers,
            body: JSON.stringify({ set: { seq: value } }),
          });
  await res.arrayBuffer();
  return res.ok;
}
const kinds = ['get', 'check', 'tag'];
function step(p, w, i) {
  if (p.mode === 'group') return ['tag', request('tag', w * p.stride + (i % p.stride), i)];
  const kind = kinds[(w + i) % 3];
  return [kind, request(kind, w * 7919 + i)];
}
async function run(p) {
  const lat = { get: [], check: [], tag: [] };
  const errors = { get: 0, check: 0, tag: 0 };
  const t0 = performance.now();
  if (p.mode === 'single') {
    for (let i = 0; i < p.count; i++) {
      const s = performance.now();
      if (!(await request('tag', i, -1 - i).catch(() => false))) errors.tag++;
      lat.tag.push(performance.now() - s);
    }
  } else {
    const end = t0 + p.seconds * 1000;
    await Promise.all(
      Array.from({ length: p.workers }, async (_, w) => {
        for (let i = 0; performance.now() < end; i++) {
          const s = performance.now();
          const [kind, req] = step(p, w, i);
          const ok = await req.catch(() => false);
          lat[kind].push(performance.now() - s);
          if (!ok) errors[kind]++;
        }
      }),
    );
  }
  return { lat, errors, secs: (performance.now() - t0) / 1000 };
}
run(d.plan).then(
  (r) => parentPort.postMessage(r),
  (e) => parentPort.postMessage({ error: String(e && e.stack || e) }),
);
`;

/**
 * Run `plan` against `target` on a worker thread; resolves with its latencies.
 *
 * @example const run = await runLoad(target, { mode: 'single', count: 500 });
 */
export function runLoad(
  target: { base: string; headers: Record<string, string>; records: number },
  plan: LoadPlan,
): Promise<LoadRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOURCE, { eval: true, workerData: { target, plan } });
    worker.once('message', (m: LoadRun | { error: string }) => {
      void worker.terminate();
      if ('error' in m) reject(new Error(`load worker: ${m.error}`));
      else resolve(m);
    });
    worker.once('error', reject);
  });
}
