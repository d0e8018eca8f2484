/**
 * Distribution suite (issue "Distribution at scale"): a real manager (PGlite) in this
 * process, N simulated agents in a separate process (bench/sim-agents.ts) holding real
 * connections (the WebSocket channel) and acknowledging like the real agent. One tag
 * change that concerns every agent (a record changes identity: the ipcache changes
 * everywhere); per round: time from just before the write is sent to the moment the
 * manager accepts each agent's ACK (its PEP registry records the revision as applied —
 * what `?wait=` waits for).
 * Two unmeasured warm-up rounds (one per direction of the toggle), then `rounds` measured ones.
 * Reports p50/p99/max over agents (all rounds), the time to the last ACK per round,
 * manager CPU during the rounds, RSS, and RSS per connection.
 *
 * Tokens: agent tokens are minted straight into the store with a cheap scrypt cost
 * (the manager verifies whatever cost the hash names, once per token, then caches):
 * 10,000 default-cost verifications would measure scrypt, not distribution.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseSettings } from '../src/config/settings.js';
import type { Change } from '../src/engine/index.js';
import type { Document } from '../src/model/types.js';
import { buildServer } from '../src/server/app.js';
import { distributionOf } from '../src/server/distribution/distribution.js';
import { createToken } from '../src/server/tokens.js';
import { newToken } from '../src/server/token-secret.js';
import { openStore } from '../src/store/open-store.js';
import { startCpuProfile } from './cpu-profile.js';
import { percentile } from './measure.js';
import type { Suite } from './run.js';

interface Result {
  agents: number;
  records: number;
  rounds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Per round: the last agent's ACK (ms after the write was sent). */
  lastAckMs: number[];
  /** Per round: the write's own answer (ms), included in the ACK times. */
  writeMs: number[];
  /** Per round: when the change reached the distribution feed (ms after the write was sent). */
  stepMs: number[];
  missing: number;
  managerCpuMs: number;
  managerRssMb: number;
  rssPerConnectionKb: number;
  /** Manager JS heap per connection (after full collections): what a connection's objects cost. */
  heapPerConnectionKb: number;
  simRssMb: number;
  /** One more change written with `?wait=30s`: its answer (ms) and the PEPs it waited for. */
  waitAnswerMs: number;
  waitedHosts: number;
  setupSeconds: number;
}

/** A full collection (the bench process is not started with --expose-gc). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const epochMs = () => performance.timeOrigin + performance.now();

function model(agents: number, records: number): Document[] {
  const docs: Document[] = [
    { kind: 'Subnet', name: 'lan', cidr: '10.64.0.0/16', vni: 64 },
    {
      kind: 'Policy',
      name: 'web-to-db',
      priority: 100,
      appliesTo: 'role == "r0"',
      ingress: [{ action: 'allow', from: { selector: 'role == "r1"' }, ports: ['tcp/5432'] }],
    },
  ] as Document[];
  for (let i = 0; i < agents; i++)
    docs.push({ kind: 'Instance', name: `vm${i}`, host: `h${i}` } as Document);
  for (let i = 0; i < records; i++) {
    docs.push({
      kind: 'Interface',
      name: `r${i}`,
      subnet: 'lan',
      ips: [`10.64.${Math.floor(i / 200)}.${(i % 200) + 1}`],
      tags: { role: `r${i % 10}` },
      instance: `vm${i}`,
    } as Document);
  }
  return docs;
}

/** An agent token with a cheap hash (see the file comment). */
function cheapAgentToken(host: string) {
  const { id, secret, token } = newToken();
  const salt = randomBytes(16);
  const key = scryptSync(secret, salt, 32, { N: 2, r: 1, p: 1 });
  const hash = ['scrypt', 2, 1, 1, salt.toString('base64'), key.toString('base64')].join('$');
  return {
    token,
    record: {
      id,
      role: 'agent' as const,
      host,
      hash,
      createdAt: new Date().toISOString(),
      createdBy: 'bench',
    },
  };
}

function request(child: ChildProcess, msg: unknown, reply: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMsg = (raw: unknown) => {
      const m = raw as { type: string };
      if (m.type !== reply) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number) => reject(new Error(`sim-agents exited with ${code}`));
    child.on('message', onMsg);
    child.once('exit', onExit);
    child.send(msg as object);
  });
}

/**
 * One size: setup, `rounds` tag changes, teardown.
 *
 * @example const r = await runDistribution(1000, 5, console.log);
 */
export async function runDistribution(
  agents: number,
  rounds: number,
  log: (l: string) => void,
): Promise<Result> {
  const t0 = performance.now();
  // Every agent holds the whole ipcache and every remote record: at 10,000 agents in one
  // simulator process that is records × agents objects, so the 10k run uses 200 records.
  const records = agents >= 10_000 ? 200 : Math.min(agents, 1000);
  const dataDir = await mkdtemp(join(tmpdir(), 'vnp-bench-dist-'));
  const store = await openStore({ dataDir });
  const built = await buildServer({
    settings: parseSettings({ VNP_DATA_DIR: dataDir }),
    store,
    logger: false,
  });
  const child = fork(new URL('./sim-agents.ts', import.meta.url).pathname, [], {
    // VNP_BENCH_SIM_ARGS: extra node flags for the simulator (e.g. --cpu-prof for profiling).
    execArgv: [
      '--import',
      'tsx',
      '--max-old-space-size=12000',
      // Real agents each have their own heap; one heap for 10,000 of them would collect
      // its young generation every few hundred messages at the default semi-space size.
      '--max-semi-space-size=64',
      ...(process.env.VNP_BENCH_SIM_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const url = await built.app.listen({ host: '127.0.0.1', port: 0 });
    const changes: Change[] = model(agents, records).map((doc) => ({ op: 'put', doc }));
    await built.manager.write({ actor: 'bench', action: 'model' }, () => ({
      changes,
      result: undefined,
    }));
    const tokens: { host: string; token: string }[] = [];
    for (let i = 0; i < agents; i++) {
      const t = cheapAgentToken(`h${i}`);
      await store.putToken(t.record);
      tokens.push({ host: `h${i}`, token: t.token });
    }
    const admin = (await createToken(built.manager, { role: 'admin' }, 'bench')).token;
    // ACK times as the manager accepts them (host → epoch ms) for the awaited revision.
    let awaited = Number.POSITIVE_INFINITY;
    let ackedAt = new Map<string, number>();
    let allAcked: () => void = () => undefined;
    distributionOf(built.manager)!.peps.onAck((host, _from, to) => {
      if (to < awaited || ackedAt.has(host)) return;
      ackedAt.set(host, epochMs());
      if (ackedAt.size === agents) allAcked();
    });
    gc();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    log(`  ${agents} agents: connecting…`);
    const transport = process.env.VNP_BENCH_TRANSPORT === 'ndjson' ? 'ndjson' : 'websocket';
    const ready = (await request(
      child,
      { type: 'start', url, agents: tokens, transport },
      'ready',
    )) as {
      rssMb: number;
    };
    // Let the connection burst settle (snapshots out, underlay steps delivered).
    await new Promise((r) => setTimeout(r, 2000));
    gc();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed;
    const setupSeconds = (performance.now() - t0) / 1000;
    const all: number[] = [];
    const lastAckMs: number[] = [];
    const writeMs: number[] = [];
    const stepMs: number[] = [];
    let stepAt = Number.NaN;
    distributionOf(built.manager)!.feed.onStep(() => (stepAt = epochMs()));
    let missing = 0;
    const profileDir = process.env.VNP_BENCH_PROFILE;
    const stopProfile = profileDir ? await startCpuProfile() : undefined;
    if (profileDir) await request(child, { type: 'profile' }, 'profiling');
    const cpu0 = process.cpuUsage();
    // Rounds -2 and -1 warm up (JIT, first-use paths) and are not counted: the tag
    // toggles (to a tag set of its own, back to a shared one): two engine paths.
    for (let round = -2; round < rounds; round++) {
      ackedAt = new Map();
      // Nothing else writes: the tag change is the next revision.
      awaited = built.manager.revision + 1;
      const sent = epochMs();
      const res = await fetch(`${url}/v1/interfaces/r5/tags`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ set: { role: (round + 2) % 2 === 0 ? 'special' : 'r5' } }),
      });
      const body = (await res.json()) as { revision?: number };
      const answeredMs = epochMs() - sent;
      if (res.status !== 200 || body.revision === undefined)
        throw new Error(`tag change: HTTP ${res.status} ${JSON.stringify(body)}`);
      if (body.revision !== awaited)
        throw new Error(`tag change: revision ${body.revision}, expected ${awaited}`);
      if (ackedAt.size < agents)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 30_000);
          allAcked = () => (clearTimeout(timer), resolve());
        });
      if (round >= 0) {
        missing += agents - ackedAt.size;
        const lat = [...ackedAt.values()].map((t) => t - sent);
        all.push(...lat);
        lastAckMs.push(Math.max(...lat));
        writeMs.push(answeredMs);
        stepMs.push(stepAt - sent);
      }
      // Rounds are separate changes (warm-up rounds included): let the last one settle.
      await new Promise((r) => setTimeout(r, 200));
    }
    const cpu = process.cpuUsage(cpu0);
    if (profileDir) {
      await stopProfile?.(join(profileDir, `manager-${agents}.cpuprofile`));
      await request(
        child,
        { type: 'profile-stop', path: join(profileDir, `sim-${agents}.cpuprofile`) },
        'profiled',
      );
    }
    // `vnp tag --wait` at this scale: the answer comes once every PEP acknowledged.
    const w0 = epochMs();
    const waited = await fetch(`${url}/v1/interfaces/r5/tags?wait=30s`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      // The next step of the same toggle: a change that concerns every agent.
      body: JSON.stringify({ set: { role: (rounds + 2) % 2 === 0 ? 'special' : 'r5' } }),
    });
    const waitedBody = (await waited.json()) as { waited?: { hosts: number } };
    const waitAnswerMs = epochMs() - w0;
    if (waited.status !== 200)
      throw new Error(`?wait=: HTTP ${waited.status} ${JSON.stringify(waitedBody)}`);
    all.sort((a, b) => a - b);
    const result: Result = {
      agents,
      records,
      rounds,
      p50Ms: percentile(all, 50),
      p99Ms: percentile(all, 99),
      maxMs: all[all.length - 1] ?? Number.NaN,
      lastAckMs,
      writeMs,
      stepMs,
      missing,
      managerCpuMs: (cpu.user + cpu.system) / 1000,
      managerRssMb: rssAfter / 2 ** 20,
      rssPerConnectionKb: Math.max(0, rssAfter - rssBefore) / agents / 1024,
      heapPerConnectionKb: Math.max(0, heapAfter - heapBefore) / agents / 1024,
      simRssMb: ready.rssMb,
      waitAnswerMs,
      waitedHosts: waitedBody.waited?.hosts ?? 0,
      setupSeconds,
    };
    log(
      `  ${agents} agents: p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms`,
    );
    return result;
  } finally {
    child.send({ type: 'stop' });
    await new Promise((r) => {
      const t = setTimeout(() => (child.kill('SIGKILL'), r(undefined)), 10_000);
      child.once('exit', () => (clearTimeout(t), r(undefined)));
    });
    await built.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function report(results: Result[]): string {
  const rows = results.map(
    (r) =>
      `${String(r.agents).padStart(6)}  ${r.p50Ms.toFixed(1).padStart(8)}  ${r.p99Ms.toFixed(1).padStart(8)}  ${r.maxMs.toFixed(1).padStart(8)}  ${(r.managerCpuMs / r.rounds).toFixed(0).padStart(12)}  ${r.managerRssMb.toFixed(0).padStart(8)}  ${r.rssPerConnectionKb.toFixed(1).padStart(11)}  ${r.heapPerConnectionKb.toFixed(1).padStart(12)}  ${r.missing}`,
  );
  const target = (n: number, ms: number) => {
    const r = results.find((x) => x.agents === n);
    return r
      ? `${n} agents p99 ${r.p99Ms.toFixed(0)} ms (target ≤ ${ms}): ${r.p99Ms <= ms && r.missing === 0 ? 'met' : 'NOT met'}`
      : `${n} agents: not run`;
  };
  return [
    'agents  p50 (ms)  p99 (ms)  max (ms)  cpu/round ms  RSS (MB)  RSS KB/conn  heap KB/conn  missing',
    ...rows,
    '',
    ...results.map(
      (r) =>
        `?wait= at ${r.agents} agents: answered in ${r.waitAnswerMs.toFixed(0)} ms, waited for ${r.waitedHosts} PEPs`,
    ),
    '',
    target(1000, 250),
    target(10_000, 2000),
  ].join('\n');
}

/** The suite registered in bench/run.ts. */
export const distributionSuite: Suite = {
  async run({ quick, log }) {
    const sizes = quick ? [100, 1000] : [100, 1000, 10_000];
    const results: Result[] = [];
    for (const n of sizes) results.push(await runDistribution(n, quick ? 3 : 5, log));
    return {
      json: { results },
      report: report(results),
      ok: results.every((r) => r.missing === 0),
    };
  },
};
