/**
 * Data-plane suite (issue "The Linux PEP agent", item 8; privileged): two host
 * namespaces on an underlay bridge, the real Agent in each (VXLAN-GBP overlay,
 * veths into instance namespaces, the `inet vnp` table), and real traffic from
 * instance a (h1) to instance b (h2):
 *  - iperf3 TCP throughput and a TCP connection rate (connect latency = the first
 *    packet's cost through both hosts' policy) with no policy, with 10 entries, and
 *    with 10,000 / 100,000 entries compiled by vnp, against the same entries as a
 *    linear nftables rule list;
 *  - `agent.applyState` wall time for a one-entry change on top of 10,000 and
 *    100,000 entries, and a full render + apply.
 * Skips itself (with the reason) when not root or a tool is missing.
 */
import { performance } from 'node:perf_hooks';
import type { Agent } from '../src/agent/agent.js';
import { makeExec } from '../src/agent/exec.js';
import { startAgents } from '../test/e2e/support/agents.js';
import { KernelNft } from '../src/agent/nft/apply.js';
import { renderRuleset } from '../src/agent/nft/render.js';
import { applyHostDelta } from '../src/model/host-delta.js';
import { tcpConnects, tcpServer, type Proc } from '../test/e2e/support/traffic.js';
import {
  benchRecords,
  benchStates,
  conntrackOnlyRuleset,
  IP_A,
  IP_B,
  LINEAR_TABLE,
  linearRuleset,
  noPolicyStates,
  oneEntryPatch,
  PORT_CONN,
  PORT_IPERF,
} from './datapath-states.js';
import { benchProblem, buildBenchTopology, type BenchTopology } from './datapath-topology.js';
import {
  connRate,
  iperfClient,
  iperfServer,
  type ConnRate,
  type Server,
} from './datapath-traffic.js';
import { measureEndToEnd, type EndToEndTiming } from './datapath-e2e.js';
import { measureOvs, type OvsResults } from './datapath-ovs.js';
import { formatDatapathReport } from './datapath-report.js';
import { percentile } from './measure.js';
import type { RunOptions, Suite } from './run.js';

/** A port nothing allows: connecting to it must fail whenever a policy is loaded. */
const PORT_DENIED = 9090;
/** The small policy. */
const SMALL = 10;

/** Scale and time boxes. */
export interface DatapathConfig {
  /** Entry counts of the large policies (vnp and linear). */
  sizes: number[];
  iperfSeconds: number;
  /** iperf3 runs per scenario; the best is kept (interference only slows a run down). */
  iperfRuns: number;
  /** Connections per scenario, and the time box for them. */
  conns: number;
  connMs: number;
  /** One-entry changes timed per size. */
  changes: number;
  /** Full render + apply repetitions per size. */
  fullReps: number;
  /** A linear list that takes longer to load than this is reported as skipped. */
  linearLoadTimeoutS: number;
  /** Interleaved rounds (no policy, conntrack only, vnp 10,000) for the throughput target. */
  pairRounds: number;
  /** Tag flips through the API for the end-to-end figure. */
  flips: number;
}

export const FULL_DATAPATH: DatapathConfig = {
  sizes: [10_000, 100_000],
  iperfSeconds: 3,
  iperfRuns: 3,
  conns: 2000,
  connMs: 4000,
  changes: 20,
  fullReps: 3,
  linearLoadTimeoutS: 90,
  pairRounds: 7,
  flips: 30,
};

export const QUICK_DATAPATH: DatapathConfig = {
  sizes: [1_000, 10_000],
  iperfSeconds: 1,
  iperfRuns: 1,
  conns: 300,
  connMs: 1500,
  changes: 5,
  fullReps: 1,
  linearLoadTimeoutS: 30,
  pairRounds: 2,
  flips: 10,
};

/** One measured configuration of the data plane. */
export interface ScenarioResult {
  /** `conntrack`: a stateful forward chain without policy (see conntrackOnlyRuleset). */
  kind: 'none' | 'conntrack' | 'vnp' | 'linear';
  /** The no-policy baseline measured again at the end (drift check). */
  again?: boolean;
  entries: number;
  /** Time to load the policy on both hosts (ms), when one was loaded. */
  loadMs?: number;
  /** Receiver-side throughput, best of the runs (bits/s), and every run. */
  bps?: number;
  runsBps?: number[];
  retransmits?: number;
  conn?: ConnRate;
  /** With a policy loaded, a connection to a port nothing allows was refused. */
  deniedBlocked?: boolean;
  /** Why this scenario was not measured. */
  skipped?: string;
}

/** Agent update timings on top of `entries` entries. */
export interface ApplyTiming {
  entries: number;
  changes: number;
  /** How many of the changes the agent applied as a delta (the rest: full replace). */
  deltas: number;
  applyP50Ms: number;
  applyP99Ms: number;
  nftP50Ms: number;
  nftP99Ms: number;
  /** The conntrack sweep after each change (flows the new state denies). */
  sweepP50Ms: number;
  /** renderRuleset and `nft -j -f` of the whole table (median of the repetitions). */
  fullRenderMs: number;
  fullApplyMs: number;
}

/**
 * One interleaved round of the throughput target: the three paths measured back to
 * back (one iperf3 run each), so that drift of a shared machine hits all three alike.
 */
export interface PairRound {
  /** No PEP: no `inet vnp` table, the bare overlay. */
  noneBps: number;
  conntrackBps: number;
  /** The vnp table with no policy (the target's baseline). */
  emptyBps: number;
  vnpBps: number;
}

/** Entries per side of the throughput target (issue 4: "at 10,000 rules"). */
export const PAIR_ENTRIES = 10_000;

/** Everything the suite measured. */
export interface DatapathResults {
  config: DatapathConfig;
  scenarios: ScenarioResult[];
  applies: ApplyTiming[];
  pairs: PairRound[];
  /** Tag change through the API → enforced in h1's kernel (absent: not measured). */
  endToEnd?: EndToEndTiming;
  /** The Open vSwitch rows (issue 15), on their own network after the nftables rows. */
  ovs?: OvsResults;
}

const median = (xs: number[]): number => percentile(xs, 50);

/** The running benchmark network: topology, agents, servers. */
interface Bench {
  topo: BenchTopology;
  agents: Map<string, Agent>;
  servers: (Server | Proc)[];
  underlay: Record<string, string>;
  revision: number;
  nsA: string;
  nsB: string;
}

async function applyBoth(b: Bench, entries: number): Promise<number> {
  const recs = benchRecords(b.topo.instanceNs);
  const states = benchStates(recs, b.underlay, entries, b.revision++);
  const t0 = performance.now();
  await Promise.all([...states].map(([h, st]) => b.agents.get(h)!.applyState(st)));
  return performance.now() - t0;
}

/** Loads vnp with no policy at all (empty sides, unpartitioned defaults) on both hosts. */
async function applyNoPolicy(b: Bench): Promise<number> {
  const states = noPolicyStates(benchRecords(b.topo.instanceNs), b.underlay, b.revision++);
  const t0 = performance.now();
  await Promise.all([...states].map(([h, st]) => b.agents.get(h)!.applyState(st)));
  return performance.now() - t0;
}

async function measureTraffic(
  b: Bench,
  cfg: DatapathConfig,
  res: ScenarioResult,
  log: (l: string) => void,
): Promise<ScenarioResult> {
  const runs = [];
  for (let i = 0; i < cfg.iperfRuns; i++)
    runs.push(await iperfClient(b.nsA, IP_B, PORT_IPERF, cfg.iperfSeconds));
  const best = runs.reduce((x, y) => (y.bps > x.bps ? y : x));
  const conn = await connRate(b.nsA, IP_B, PORT_CONN, cfg.conns, cfg.connMs);
  const out: ScenarioResult = {
    ...res,
    bps: best.bps,
    runsBps: runs.map((r) => r.bps),
    retransmits: best.retransmits,
    conn,
  };
  if ((res.kind === 'vnp' && res.entries > 0) || res.kind === 'linear')
    out.deniedBlocked = !(await tcpConnects(b.nsA, IP_B, PORT_DENIED));
  log(
    `  ${res.kind} ${res.entries}: ${(best.bps / 1e9).toFixed(2)} Gbit/s, ${conn.connPerSec.toFixed(0)} conn/s, ` +
      `connect p50 ${conn.p50Ms.toFixed(3)} ms p99 ${conn.p99Ms.toFixed(3)} ms` +
      (conn.failures ? `, ${conn.failures} failed` : ''),
  );
  return out;
}

/**
 * One-entry changes on h1 (add, remove, …), each the fold of a side patch into the
 * applied state (what an agent receives from the manager), then full render + apply of
 * the same state.
 */
async function timeApplies(b: Bench, cfg: DatapathConfig, entries: number): Promise<ApplyTiming> {
  const agent = b.agents.get('h1')!;
  const wall: number[] = [];
  const nft: number[] = [];
  const sweep: number[] = [];
  const deltasBefore = agent.stats.deltaApplies;
  for (let k = 0; k < cfg.changes; k++) {
    // Even changes add one entry, odd ones remove it again: every step is one entry.
    const state = applyHostDelta(agent.state!, oneEntryPatch(agent.state!, k));
    const t0 = performance.now();
    await agent.applyState(state);
    wall.push(performance.now() - t0);
    // The sweep runs behind the apply (the next state would not wait for it); here it
    // is waited for, untimed, so that it never overlaps the next timed change.
    await agent.swept();
    const st = agent.stats;
    nft.push(st.lastPolicyMs ?? NaN);
    sweep.push(st.lastSweepMs ?? NaN);
  }
  const deltas = agent.stats.deltaApplies - deltasBefore;
  const last = agent.state!;
  const kernel = new KernelNft(makeExec(b.topo.hosts[0]!.netns));
  const renders: number[] = [];
  const applies: number[] = [];
  for (let r = 0; r < cfg.fullReps; r++) {
    const t0 = performance.now();
    const doc = renderRuleset(last);
    const t1 = performance.now();
    // Same state: the table is replaced by an identical one, the agent's view stays true.
    await kernel.apply(doc);
    renders.push(t1 - t0);
    applies.push(performance.now() - t1);
  }
  return {
    entries,
    changes: cfg.changes,
    deltas,
    applyP50Ms: percentile(wall, 50),
    applyP99Ms: percentile(wall, 99),
    nftP50Ms: percentile(nft, 50),
    nftP99Ms: percentile(nft, 99),
    sweepP50Ms: percentile(sweep, 50),
    fullRenderMs: median(renders),
    fullApplyMs: median(applies),
  };
}

/**
 * Loads the linear list (or, with `entries` undefined, the conntrack-only chain) on both
 * hosts; undefined on success, else why it was not loaded.
 */
async function loadLinear(
  b: Bench,
  cfg: DatapathConfig,
  entries: number | undefined,
): Promise<string | undefined> {
  const results = await Promise.all(
    b.topo.hosts.map((h) =>
      makeExec(h.netns)(
        ['timeout', String(cfg.linearLoadTimeoutS), 'nft', '-f', '-'],
        entries === undefined
          ? conntrackOnlyRuleset()
          : linearRuleset(h.name as 'h1' | 'h2', entries),
      ),
    ),
  );
  const bad = results.find((r) => r.code !== 0);
  if (!bad) return undefined;
  return bad.code === 124
    ? `the linear list did not load within ${cfg.linearLoadTimeoutS} s`
    : `nft refused the linear list: ${bad.stderr.trim().slice(0, 200)}`;
}

async function dropLinear(b: Bench): Promise<void> {
  for (const h of b.topo.hosts)
    await makeExec(h.netns)(['nft', 'delete', 'table', 'inet', LINEAR_TABLE]);
}

async function removePolicy(b: Bench): Promise<void> {
  await Promise.all([...b.agents.values()].map((a) => a.removePolicy()));
}

/**
 * The throughput target, measured as interleaved rounds: in each round no PEP,
 * conntrack only, vnp with no policy and vnp with PAIR_ENTRIES entries, one iperf3
 * run each, in an order that rotates from round to round. The report takes the median of the per-round
 * ratios: a slow spell of the machine lowers one round, not one side of the ratio.
 */
async function measurePairs(
  b: Bench,
  cfg: DatapathConfig,
  log: (l: string) => void,
): Promise<PairRound[]> {
  const once = async (): Promise<number> =>
    (await iperfClient(b.nsA, IP_B, PORT_IPERF, cfg.iperfSeconds)).bps;
  const paths: Record<keyof PairRound, () => Promise<number>> = {
    noneBps: async () => {
      await removePolicy(b);
      return once();
    },
    conntrackBps: async () => {
      await removePolicy(b);
      const problem = await loadLinear(b, cfg, undefined);
      if (problem) throw new Error(problem);
      try {
        return await once();
      } finally {
        await dropLinear(b);
      }
    },
    emptyBps: async () => {
      await applyNoPolicy(b);
      return once();
    },
    vnpBps: async () => {
      await applyBoth(b, PAIR_ENTRIES);
      return once();
    },
  };
  const order = Object.keys(paths) as (keyof PairRound)[];
  const rounds: PairRound[] = [];
  for (let r = 0; r < cfg.pairRounds; r++) {
    const round = { noneBps: 0, conntrackBps: 0, emptyBps: 0, vnpBps: 0 };
    for (let i = 0; i < order.length; i++) {
      const key = order[(i + r) % order.length]!;
      round[key] = await paths[key]();
    }
    rounds.push(round);
    const g = (x: number) => (x / 1e9).toFixed(2);
    log(
      `  round ${r + 1}: no PEP ${g(round.noneBps)}, conntrack ${g(round.conntrackBps)}, ` +
        `vnp no policy ${g(round.emptyBps)}, vnp ${g(round.vnpBps)} Gbit/s ` +
        `(vnp ÷ no policy ${(round.vnpBps / round.emptyBps).toFixed(3)}, ÷ no PEP ${(round.vnpBps / round.noneBps).toFixed(3)})`,
    );
  }
  await removePolicy(b);
  return rounds;
}

async function measureAll(
  b: Bench,
  cfg: DatapathConfig,
  log: (l: string) => void,
): Promise<DatapathResults> {
  const scenarios: ScenarioResult[] = [];
  const applies: ApplyTiming[] = [];
  log('no PEP (no inet vnp table, same overlay)');
  await removePolicy(b);
  scenarios.push(await measureTraffic(b, cfg, { kind: 'none', entries: 0 }, log));
  log('conntrack only (stateful forward chain, no policy)');
  const ctProblem = await loadLinear(b, cfg, undefined);
  if (ctProblem) throw new Error(ctProblem);
  try {
    scenarios.push(await measureTraffic(b, cfg, { kind: 'conntrack', entries: 0 }, log));
  } finally {
    await dropLinear(b);
  }
  log('vnp, no policy (the table with empty sides, unpartitioned defaults)');
  const emptyMs = await applyNoPolicy(b);
  scenarios.push(await measureTraffic(b, cfg, { kind: 'vnp', entries: 0, loadMs: emptyMs }, log));
  for (const entries of [SMALL, ...cfg.sizes]) {
    log(`vnp, ${entries} entries per side`);
    const loadMs = await applyBoth(b, entries);
    scenarios.push(await measureTraffic(b, cfg, { kind: 'vnp', entries, loadMs }, log));
    // The 10-entry timing is the reference of the proportionality target.
    const t = await timeApplies(b, cfg, entries);
    log(
      `  one-entry change: applyState p50 ${t.applyP50Ms.toFixed(1)} ms p99 ${t.applyP99Ms.toFixed(1)} ms ` +
        `(nft p50 ${t.nftP50Ms.toFixed(1)} ms, sweep p50 ${t.sweepP50Ms.toFixed(1)} ms); ` +
        `full render ${t.fullRenderMs.toFixed(0)} ms + apply ${t.fullApplyMs.toFixed(0)} ms`,
    );
    applies.push(t);
  }
  log('end to end: tag change through the API → enforced in the kernel, ~10,000 entries');
  const endToEnd = await measureEndToEnd(b.topo, b.agents, cfg.flips, log);
  await removePolicy(b);
  for (const entries of cfg.sizes) {
    log(`linear rule list, ${entries} rules per host`);
    const t0 = performance.now();
    const problem = await loadLinear(b, cfg, entries);
    const loadMs = performance.now() - t0;
    try {
      if (problem) {
        log(`  skipped: ${problem}`);
        scenarios.push({ kind: 'linear', entries, skipped: problem });
        continue;
      }
      scenarios.push(await measureTraffic(b, cfg, { kind: 'linear', entries, loadMs }, log));
    } finally {
      await dropLinear(b);
    }
  }
  log('no PEP again (drift check)');
  scenarios.push(await measureTraffic(b, cfg, { kind: 'none', entries: 0, again: true }, log));
  log(
    `throughput target: ${cfg.pairRounds} interleaved rounds of no PEP, conntrack only, vnp with no policy, vnp ${PAIR_ENTRIES}`,
  );
  const pairs = await measurePairs(b, cfg, log);
  return { config: cfg, scenarios, applies, pairs, endToEnd };
}

async function setUp(topo: BenchTopology, log: (l: string) => void): Promise<Bench> {
  const b: Bench = {
    topo,
    agents: new Map(),
    servers: [],
    underlay: Object.fromEntries(topo.hosts.map((h) => [h.name, h.underlayIp])),
    revision: 1,
    nsA: topo.instanceNs('a'),
    nsB: topo.instanceNs('b'),
  };
  await startAgents(topo, b.agents, (h) => ({ log: (m) => log(`  [agent ${h.name}] ${m}`) }));
  // The first state plumbs the veths and the overlay; they stay for every scenario.
  await applyBoth(b, SMALL);
  b.servers.push(await iperfServer(b.nsB, IP_B, PORT_IPERF));
  b.servers.push(await tcpServer(b.nsB, IP_B, [PORT_CONN, PORT_DENIED]));
  if (!(await tcpConnects(b.nsA, IP_B, PORT_CONN, 3000)))
    throw new Error(`the measured flow ${IP_A} → ${IP_B}:${PORT_CONN} does not connect`);
  return b;
}

/** What a run returns to the registry. */
export interface DatapathOutcome {
  json: unknown;
  report: string;
  ok: boolean;
}

/**
 * Runs the whole data-plane benchmark (or reports it skipped). Everything lives in
 * `vnpb-<random>-…` namespaces, removed in `finally` (and on SIGINT/SIGTERM).
 *
 * @example const { report } = await runDatapath(QUICK_DATAPATH, console.log);
 */
export async function runDatapath(
  cfg: DatapathConfig,
  log: (l: string) => void,
): Promise<DatapathOutcome> {
  const problem = benchProblem();
  if (problem)
    return {
      json: { skipped: problem },
      report: `data plane: SKIPPED — ${problem} (needs root, nft, iproute2, conntrack, iperf3)`,
      ok: true,
    };
  const topo = buildBenchTopology(['h1', 'h2']);
  let bench: Bench | undefined;
  const cleanUp = (): void => {
    for (const s of bench?.servers ?? []) s.stop();
    topo.destroy();
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanUp();
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let results: DatapathResults;
  try {
    log(`topology ${topo.prefix}-*: underlay bridge, hosts h1 and h2, instances a (h1) → b (h2)`);
    bench = await setUp(topo, log);
    results = await measureAll(bench, cfg, log);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    cleanUp();
  }
  results.ovs = await measureOvs(cfg, log);
  const { report, targets, references, ok } = formatDatapathReport(results);
  return { json: { ...results, targets, references }, report, ok };
}

/** The suite registered in bench/run.ts. */
export const datapathSuite: Suite = {
  run: ({ quick, log }: RunOptions) => runDatapath(quick ? QUICK_DATAPATH : FULL_DATAPATH, log),
};
