/**
 * The server suite's load generator, in its own process (forked by bench/server-load.ts
 * with an IPC channel), so that the client's CPU is not charged to the manager it
 * measures: real clients are other processes, and an HTTP client costs about as much
 * CPU per request as the server's HTTP layer. Requests go over loopback through a
 * keep-alive `node:http` Agent with one socket per concurrent loop.
 *
 * Messages: in `{id, target, job}` (a `LoadJob`) → out `{id, result}` or `{id, error}`.
 */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from './measure.js';
import type { LoadJob, LoadTarget, MixedKind, MixedLoad, Timed } from './server-load.js';

type Kind = 'get' | 'check' | 'tag';

/** One keep-alive client with `sockets` connections to the target. */
function client(t: LoadTarget, sockets: number) {
  const url = new URL(t.base);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const send = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers = body
        ? { ...t.headers, 'content-length': String(Buffer.byteLength(body)) }
        : { authorization: t.headers.authorization ?? '' };
      const req = httpRequest(
        { agent, host: url.hostname, port: url.port, method, path, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          // Keep the body only when it explains a failure.
          res.on('data', (c: Buffer) => status >= 400 && chunks.push(c));
          res.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const call = async (kind: Kind, i: number, value = i) => {
    const r = i % t.records;
    if (kind === 'get') return send('GET', `/v1/interfaces/r${r}`);
    if (kind === 'check')
      return send(
        'POST',
        '/v1/check',
        JSON.stringify({
          src: `r${r}`,
          dst: `r${(i * 13 + 1) % t.records}`,
          protocol: 'tcp',
          port: 443,
        }),
      );
    return send('PATCH', `/v1/interfaces/r${r}/tags`, JSON.stringify({ set: { seq: value } }));
  };
  return { send, call, close: () => agent.destroy() };
}

const ok = (r: { status: number }) => r.status >= 200 && r.status < 300;

function timed(lat: number[], secs: number, errors: number): Timed {
  return {
    count: lat.length,
    secs,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    maxMs: lat.length ? Math.max(...lat) : Number.NaN,
    errors,
  };
}

/** `workers` loops running `step(worker, i)` until `seconds` pass; latencies by kind. */
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
        const good = await run.catch(() => false);
        lat[kind].push(performance.now() - t);
        if (!good) errors[kind]++;
      }
    }),
  );
  return { lat, errors, secs: (performance.now() - t0) / 1000 };
}

/** `count` requests from `loops` concurrent loops, each awaited before the next; a throw ends all. */
async function counted(loops: number, count: number, one: (i: number) => Promise<boolean>) {
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        if (!(await one(i))) errors++;
        lat.push(performance.now() - t);
      }
    }),
  );
  return timed(lat, (performance.now() - t0) / 1000, errors);
}

/** Throws with the answer's status and body when it is not a success. */
function must(what: string) {
  return (r: { status: number; text: string }) => {
    if (!ok(r)) throw new Error(`${what} failed: ${r.status} ${r.text}`);
    return true;
  };
}

async function run(t: LoadTarget, job: LoadJob): Promise<Timed | MixedLoad> {
  const sockets =
    job.kind === 'checks'
      ? job.concurrency
      : job.kind === 'concurrent'
        ? job.writers
        : job.kind === 'mixed'
          ? job.connections
          : 1;
  const c = client(t, sockets);
  try {
    if (job.kind === 'writes')
      // The app tag cycles through the 50 apps: most writes change the record's identity.
      return await counted(1, job.writes, (i) =>
        c
          .send(
            'PATCH',
            `/v1/interfaces/r${i % t.records}/tags`,
            JSON.stringify({ set: { app: `a${(i * 7) % 50}` } }),
          )
          .then(must('tag write')),
      );
    if (job.kind === 'checks')
      return await counted(job.concurrency, job.checks, (i) =>
        c.call('check', i).then(must('check')),
      );
    if (job.kind === 'single')
      // Negative values: never held yet by a record, so each write commits.
      return await counted(1, job.writes, (i) => c.call('tag', i, -1 - i).then(ok, () => false));
    if (job.kind === 'concurrent') {
      const stride = Math.max(1, Math.floor(t.records / job.writers));
      // Every write sets a value its record does not hold yet (the loop's counter), so
      // each one commits: a write that changes nothing commits nothing.
      const many = await timedLoops(job.writers, job.seconds, (w, i) => ({
        kind: 'tag',
        run: c.call('tag', w * stride + (i % stride), i).then(ok),
      }));
      return timed(many.lat.tag, many.secs, many.errors.tag);
    }
    return await mixed(c, job.connections, job.seconds);
  } finally {
    c.close();
  }
}

/** GET, check and tag PATCH in turn from `connections` loops for `seconds`. */
async function mixed(
  c: ReturnType<typeof client>,
  connections: number,
  seconds: number,
): Promise<MixedLoad> {
  const kinds: Kind[] = ['get', 'check', 'tag'];
  const r = await timedLoops(connections, seconds, (w, i) => {
    const kind = kinds[(w + i) % 3]!;
    return { kind, run: c.call(kind, w * 7919 + i).then(ok) };
  });
  const by = (k: Kind): MixedKind => ({
    requests: r.lat[k].length,
    p50Ms: percentile(r.lat[k], 50),
    p99Ms: percentile(r.lat[k], 99),
    errors: r.errors[k],
  });
  const requests = kinds.reduce((n, k) => n + r.lat[k].length, 0);
  return {
    connections,
    seconds: r.secs,
    requests,
    requestsPerSec: requests / r.secs,
    errors: kinds.reduce((n, k) => n + r.errors[k], 0),
    kinds: { get: by('get'), check: by('check'), tag: by('tag') },
  };
}

process.on('message', (msg: { id: number; target: LoadTarget; job: LoadJob } | 'stop') => {
  if (msg === 'stop') process.exit(0);
  run(msg.target, msg.job).then(
    (result) => process.send?.({ id: msg.id, result }),
    (e: unknown) => process.send?.({ id: msg.id, error: String((e as Error)?.stack ?? e) }),
  );
});
