/**
 * The data-plane suite's end-to-end figure: a tag change through the API → the kernel of
 * a real agent host enforcing it. A real manager (PGlite) on loopback, the bench's two
 * agents following it with runAgent, records a (h1) and b (h2) with ~10,000 entries on
 * a's egress side (100 filler peers × 100 ports), and a probe loop in a's namespace
 * opening a TCP connection to b:8080 every 2 ms. Each flip PATCHes b's tags (role
 * server ↔ spare: a → b:8080 allowed ↔ denied); its latency is from just before the
 * PATCH to the start of the first probe that meets the new verdict (so it over-states
 * by at most the probe period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../src/agent/agent.js';
import { runAgent, type AgentHandle } from '../src/agent/run-agent.js';
import { parseSettings } from '../src/config/settings.js';
import type { Document } from '../src/model/types.js';
import { buildServer } from '../src/server/app.js';
import { createToken } from '../src/server/tokens.js';
import { openStore } from '../src/store/open-store.js';
import {
  FlipTimeline,
  now,
  formatBreakdown,
  formatFlip,
  summarize,
  type BreakdownSummary,
  type FlipBreakdown,
} from './datapath-e2e-timeline.js';
import { IP_A, IP_B, PORT_CONN, PORT_IPERF } from './datapath-states.js';
import type { BenchTopology } from './datapath-topology.js';
import { percentile } from './measure.js';

/** Filler peers × ports per peer: the entries of a's egress side. */
const FILLERS = 100;
const FILLER_PORTS = 100;
const PROBE_EVERY_MS = 2;
const PROBE_TIMEOUT_MS = 300;

/** The end-to-end figure. */
export interface EndToEndTiming {
  /** Entries of a's egress side on h1 as the agent received them. */
  entries: number;
  flips: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Flips the probe loop did not see within the time box. */
  missed: number;
  /**
   * h1's agent per seen flip (its last applyState then): the policy part (wire check,
   * table delta, `nft`) and the apply (with links), p50 — how much of a flip is the
   * agent rather than the manager and the stream.
   */
  agentPolicyP50Ms?: number;
  agentApplyP50Ms?: number;
  /** The sweep after the apply (it runs behind it: the next flip does not wait for it). */
  agentSweepP50Ms?: number;
  /** Where each flip's time went (ms from the PATCH), and p50/p99 per stage. */
  breakdown?: BreakdownSummary;
  flipsBreakdown?: FlipBreakdown[];
}

function benchModel(instanceNs: (name: string) => string, bRole: string): Document[] {
  const docs: Document[] = [
    { kind: 'Subnet', name: 'net', cidr: '10.10.0.0/16' },
    { kind: 'Partition', name: 'bench', selector: 'env == "bench"', intra: 'deny' },
  ];
  for (const [name, host, ip, role] of [
    ['a', 'h1', IP_A, 'client'],
    ['b', 'h2', IP_B, bRole],
  ] as const) {
    docs.push({ kind: 'Instance', name: `vm-${name}`, host, netns: instanceNs(name) });
    docs.push({
      kind: 'Interface',
      name,
      subnet: 'net',
      ips: [ip],
      instance: `vm-${name}`,
      tags: { env: 'bench', role },
    });
  }
  // Unattached fillers, one identity each (a selector names each one's `n`): peers of
  // a's entries.
  for (let i = 0; i < FILLERS; i++)
    docs.push({
      kind: 'Interface',
      name: `f${i}`,
      subnet: 'net',
      ips: [`10.10.${1 + (i >> 8)}.${i & 255}`],
      tags: { env: 'bench', role: 'filler', n: String(i) },
    });
  // Every other port, so no two entries merge into one range.
  const fillerPorts = Array.from({ length: FILLER_PORTS }, (_, i) => `tcp/${20_000 + 2 * i}`);
  const fillerRules = Array.from({ length: FILLERS }, (_, i) => ({
    action: 'allow' as const,
    to: { selector: `n == "${i}"` },
    ports: fillerPorts,
  }));
  const flowPorts = [`tcp/${PORT_CONN}`, `tcp/${PORT_IPERF}`];
  docs.push(
    {
      kind: 'Policy',
      name: 'client',
      priority: 100,
      appliesTo: 'role == "client"',
      mode: 'enforce',
      routes: [],
      ingress: [],
      egress: [
        { action: 'allow', to: { selector: 'role == "server"' }, ports: flowPorts },
        ...fillerRules,
      ],
    },
    {
      kind: 'Policy',
      name: 'server',
      priority: 100,
      appliesTo: 'role == "server"',
      mode: 'enforce',
      routes: [],
      ingress: [{ action: 'allow', from: { selector: 'role == "client"' }, ports: flowPorts }],
      egress: [],
    },
  );
  return docs;
}

/** One probe's outcome: when it started (monotonic ms, sub-ms) and whether it connected. */
interface ProbeResult {
  start: number;
  ok: boolean;
}

const PROBER_JS = `
const net = require('node:net');
const [ip, port, every, timeout] = process.argv.slice(1);
setInterval(() => {
  // The bench's clock (datapath-e2e-timeline.ts now()): CLOCK_MONOTONIC, shared by processes.
  const start = Number(process.hrtime.bigint()) / 1e6;
  const socket = net.connect({ host: ip, port: Number(port) });
  let done = false;
  const finish = (ok) => {
    if (done) return;
    done = true;
    socket.destroy();
    process.stdout.write(JSON.stringify({ start, ok }) + '\\n');
  };
  socket.setTimeout(Number(timeout), () => finish(false));
  socket.on('connect', () => finish(true));
  socket.on('error', () => finish(false));
}, Number(every));
`;

/**
 * The probe loop in `ns`; `results` grows as probes finish. Not at a raised priority:
 * tried (nice -10) at load 16, it took CPU from the manager and agents it measures
 * (PATCH → answer p50 38 → 309 ms); its resolution is reported instead (`probeGap`).
 */
function startProber(ns: string): { child: ChildProcess; results: ProbeResult[] } {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      PROBER_JS,
      IP_B,
      String(PORT_CONN),
      String(PROBE_EVERY_MS),
      String(PROBE_TIMEOUT_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const results: ProbeResult[] = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      results.push(JSON.parse(buffer.slice(0, nl)) as ProbeResult);
      buffer = buffer.slice(nl + 1);
    }
  });
  return { child, results };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The first probe started after `since` that meets `verdict` and is followed by two
 * more that do (one transient failure under load is not a deny); its start, or undefined.
 */
function flipSeen(results: ProbeResult[], since: number, allowed: boolean): number | undefined {
  const after = results.filter((r) => r.start >= since).sort((x, y) => x.start - y.start);
  for (let i = 0; i + 2 < after.length; i++)
    if ([0, 1, 2].every((k) => after[i + k]!.ok === allowed)) return after[i]!.start;
  return undefined;
}

/** Start gap between the probe that started at `start` and the one before it. */
function probeGap(results: ProbeResult[], start: number): number {
  let prev = -Infinity;
  for (const r of results) if (r.start < start && r.start > prev) prev = r.start;
  return start - prev;
}

/**
 * Runs the flips against the bench's agents (which it drives through runAgent for the
 * duration, then hands back).
 *
 * @example await measureEndToEnd(topo, agents, 20, log)
 */
export async function measureEndToEnd(
  topo: BenchTopology,
  agents: Map<string, Agent>,
  flips: number,
  log: (l: string) => void,
): Promise<EndToEndTiming> {
  const dir = await mkdtemp(join(tmpdir(), 'vnp-bench-e2e-'));
  const store = await openStore({ dataDir: dir });
  const settings = parseSettings({ VNP_LISTEN: '127.0.0.1:0', VNP_LOG_LEVEL: 'silent' });
  const server = await buildServer({ settings, store, logger: false });
  const handles: AgentHandle[] = [];
  let prober: ReturnType<typeof startProber> | undefined;
  let timeline: FlipTimeline | undefined;
  try {
    const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await createToken(server.manager, { role: 'admin' }, 'bench');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const applied = await fetch(`${base}/v1/apply`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ documents: benchModel(topo.instanceNs, 'server') }),
    });
    if (!applied.ok) throw new Error(`apply failed: ${applied.status} ${await applied.text()}`);
    for (const h of topo.hosts) {
      const agentToken = await createToken(server.manager, { role: 'agent', host: h.name }, h.name);
      handles.push(
        runAgent({
          servers: [base],
          host: h.name,
          token: agentToken.token,
          underlayIp: h.underlayIp,
          agent: agents.get(h.name)!,
          minBackoffMs: 50,
          maxBackoffMs: 200,
        }),
      );
    }
    await Promise.all(handles.map((h) => h.ready));
    const h1 = agents.get('h1')!;
    const entries = h1.state?.sides.find((s) => s.direction === 'egress')?.peers.length ?? 0;
    log(`  manager on ${base}; h1's egress side has ${entries} entries`);
    prober = startProber(topo.instanceNs('a'));
    // Wait until the loop runs and the flow connects (underlay learnt, links up).
    const t0 = now();
    while (flipSeen(prober.results, t0, true) === undefined) {
      if (now() - t0 > 20_000) throw new Error(`a → b:${PORT_CONN} never connected`);
      await sleep(20);
    }
    const latencies: number[] = [];
    const policyMs: number[] = [];
    const applyMs: number[] = [];
    const sweepMs: number[] = [];
    /** Each seen flip, broken down once its sweeps ended (an allow is seen before them). */
    const seenFlips: Parameters<FlipTimeline['breakdown']>[] = [];
    timeline = new FlipTimeline(server.manager, agents);
    let missed = 0;
    let allowed = true;
    for (let i = 0; i < flips; i++) {
      allowed = !allowed;
      await sleep(150);
      const before = now();
      const r = await fetch(`${base}/v1/interfaces/b/tags`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ set: { role: allowed ? 'server' : 'spare' } }),
      });
      const ack = now();
      if (!r.ok) throw new Error(`tag change failed: ${r.status} ${await r.text()}`);
      const revision = server.manager.revision;
      let seen: number | undefined;
      while ((seen = flipSeen(prober.results, before, allowed)) === undefined) {
        if (now() - before > 5_000) break;
        await sleep(10);
      }
      if (seen === undefined) missed++;
      else {
        latencies.push(seen - before);
        policyMs.push(h1.stats.lastPolicyMs ?? NaN);
        applyMs.push(h1.stats.lastApplyMs ?? NaN);
        // Not waited for before the next flip: a real agent does not either.
        void h1.swept().then(() => sweepMs.push(h1.stats.lastSweepMs ?? NaN));
        seenFlips.push([revision, allowed, before, ack, seen]);
      }
    }
    // The last sweeps' marks, and every probe's outcome (a denied one takes its timeout).
    await Promise.all([...agents.values()].map((a) => a.swept()));
    await sleep(PROBE_TIMEOUT_MS + 50);
    const breakdowns: FlipBreakdown[] = seenFlips.map((args) => timeline!.breakdown(...args));
    for (const f of breakdowns) f.probeGapMs = probeGap(prober.results, f.at + f.seenMs);
    const breakdown = summarize(breakdowns);
    const result: EndToEndTiming = {
      entries,
      flips,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      missed,
      agentPolicyP50Ms: percentile(policyMs, 50),
      agentApplyP50Ms: percentile(applyMs, 50),
      agentSweepP50Ms: percentile(sweepMs, 50),
      breakdown,
      flipsBreakdown: breakdowns,
    };
    log(
      `  tag change → enforced on h1: p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms ` +
        `(${flips} flips, ${missed} missed; h1's agent: policy p50 ${result.agentPolicyP50Ms!.toFixed(1)} ms, ` +
        `apply p50 ${result.agentApplyP50Ms!.toFixed(1)} ms, sweep behind it p50 ${result.agentSweepP50Ms!.toFixed(1)} ms)`,
    );
    for (const l of formatBreakdown(breakdown)) log(l);
    const slowest = [...breakdowns].sort((x, y) => y.seenMs - x.seenMs).slice(0, 3);
    for (const f of slowest) log(`  slow flip: ${formatFlip(f)}`);
    return result;
  } finally {
    timeline?.close();
    prober?.child.kill('SIGKILL');
    await Promise.all(handles.map((h) => h.stop()));
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
