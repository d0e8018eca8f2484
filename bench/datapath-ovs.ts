/**
 * The data-plane suite's Open vSwitch rows (issue 15, "Figures"), in the same run as
 * the nftables rows but on their own network: h1 runs the OVS agent (one bridge,
 * userspace datapath, its own ovsdb-server and ovs-vswitchd in h1's namespace), h2 the
 * nftables agent, as in the mixed conformance tests. The same HostStates as the
 * nftables rows (a's egress side on h1, b's ingress side on h2):
 *  - throughput with 10,000 entries ÷ the same OVS bridge with no policy, as
 *    interleaved rounds (the median of the per-round ratios);
 *  - connection rate (and connect latency) at 10 and at 10,000 entries;
 *  - `applyState` of a one-entry change at 10,000 entries on the OVS host, and the
 *    flows the bundle wrote.
 */
import { performance } from 'node:perf_hooks';
import { Agent } from '../src/agent/agent.js';
import { makeExec } from '../src/agent/exec.js';
import { OvsDatapath } from '../src/agent/ovs/ovs-datapath.js';
import { applyHostDelta } from '../src/model/host-delta.js';
import { tcpConnects, tcpServer } from '../test/e2e/support/traffic.js';
import { OVS_TOOLS, startOvs, type TestOvs } from '../test/e2e/support/ovs.js';
import { privilegedProblem } from '../test/e2e/support/topology.js';
import {
  benchRecords,
  benchStates,
  IP_B,
  noPolicyStates,
  oneEntryPatch,
  PORT_CONN,
  PORT_IPERF,
} from './datapath-states.js';
import { buildBenchTopology, type BenchTopology } from './datapath-topology.js';
import {
  connRate,
  iperfClient,
  iperfServer,
  type ConnRate,
  type Server,
} from './datapath-traffic.js';
import { percentile } from './measure.js';
import { formatMs, formatRatio, formatTable } from './table.js';

const BRIDGE = 'vnpbr';
/** Entries of the large policy (issue 15: "with 10k entries"). */
export const OVS_ENTRIES = 10_000;
const SMALL = 10;

/** What the OVS rows measured (or why not). */
export interface OvsResults {
  skipped?: string;
  /** One round: the bridge with no policy, then with OVS_ENTRIES entries, one iperf3 run each. */
  rounds: { emptyBps: number; vnpBps: number }[];
  conns: { entries: number; loadMs: number; conn: ConnRate; deniedBlocked?: boolean }[];
  /** One-entry changes at OVS_ENTRIES on the OVS host. */
  apply?: { entries: number; changes: number; p50Ms: number; p99Ms: number; flowsP50: number };
}

/** Scale of the OVS rows (from the suite's config). */
export interface OvsConfig {
  iperfSeconds: number;
  pairRounds: number;
  conns: number;
  connMs: number;
  changes: number;
}

interface OvsBench {
  topo: BenchTopology;
  ovs: TestOvs;
  ovsPath: OvsDatapath;
  agents: Map<string, Agent>;
  servers: Server[];
  underlay: Record<string, string>;
  revision: number;
}

async function apply(b: OvsBench, entries: number | undefined): Promise<number> {
  const recs = benchRecords(b.topo.instanceNs);
  const states =
    entries === undefined
      ? noPolicyStates(recs, b.underlay, b.revision++)
      : benchStates(recs, b.underlay, entries, b.revision++);
  const t0 = performance.now();
  await Promise.all([...states].map(([h, st]) => b.agents.get(h)!.applyState(st)));
  return performance.now() - t0;
}

async function setUp(topo: BenchTopology, ovs: TestOvs, log: (l: string) => void) {
  const [h1, h2] = [topo.hosts[0]!, topo.hosts[1]!];
  const ovsPath = new OvsDatapath({
    bridge: BRIDGE,
    underlayIp: h1.underlayIp,
    rundir: ovs.rundir,
    exec: makeExec(h1.netns),
    log: (m) => log(`  [ovs h1] ${m}`),
  });
  const agents = new Map([
    ['h1', new Agent({ host: 'h1', underlayIp: h1.underlayIp, datapath: ovsPath })],
    ['h2', new Agent({ host: 'h2', underlayIp: h2.underlayIp, exec: makeExec(h2.netns) })],
  ]);
  for (const a of agents.values()) await a.start();
  const underlay = Object.fromEntries(topo.hosts.map((h) => [h.name, h.underlayIp]));
  const b: OvsBench = { topo, ovs, ovsPath, agents, servers: [], underlay, revision: 1 };
  await apply(b, SMALL);
  await noSegmentOffload(topo.instanceNs('a'));
  const nsB = topo.instanceNs('b');
  b.servers.push(await iperfServer(nsB, IP_B, PORT_IPERF));
  b.servers.push(await tcpServer(nsB, IP_B, [PORT_CONN, PORT_DENIED]));
  if (!(await tcpConnects(topo.instanceNs('a'), IP_B, PORT_CONN, 5000)))
    throw new Error(`over OVS, a → ${IP_B}:${PORT_CONN} does not connect`);
  return b;
}

/**
 * OVS 3.1's userspace datapath drops TCP segmentation-offload segments it has to send
 * into a VXLAN tunnel (tunnels with userspace TSO come with OVS 3.3): TCP from a
 * crawled at ~0.5 Mbit/s with or without policy. Segments of at most one MTU (the
 * instance's `gso_max_size`) pass; this is a setting of the instance, not of vnp, and
 * the same for every OVS row.
 */
async function noSegmentOffload(ns: string): Promise<void> {
  const exec = makeExec(ns);
  const links = JSON.parse((await exec(['ip', '-j', 'link', 'show'])).stdout || '[]') as {
    ifname: string;
  }[];
  for (const { ifname } of links)
    if (ifname !== 'lo')
      await exec(['ip', 'link', 'set', 'dev', ifname, 'gso_max_size', '1500', 'gso_max_segs', '1']);
}

/** A port nothing allows (as in the nftables rows). */
const PORT_DENIED = 9090;

async function measureConns(b: OvsBench, cfg: OvsConfig, log: (l: string) => void) {
  const nsA = b.topo.instanceNs('a');
  const out: OvsResults['conns'] = [];
  for (const entries of [SMALL, OVS_ENTRIES]) {
    const loadMs = await apply(b, entries);
    const conn = await connRate(nsA, IP_B, PORT_CONN, cfg.conns, cfg.connMs);
    const deniedBlocked = !(await tcpConnects(nsA, IP_B, PORT_DENIED));
    log(
      `  OVS ${entries} entries: loaded in ${loadMs.toFixed(0)} ms, ${conn.connPerSec.toFixed(0)} conn/s, ` +
        `connect p50 ${conn.p50Ms.toFixed(3)} ms p99 ${conn.p99Ms.toFixed(3)} ms` +
        (conn.failures ? `, ${conn.failures} failed` : ''),
    );
    out.push({ entries, loadMs, conn, deniedBlocked });
  }
  return out;
}

async function measureRounds(b: OvsBench, cfg: OvsConfig, log: (l: string) => void) {
  const nsA = b.topo.instanceNs('a');
  const once = async () => (await iperfClient(nsA, IP_B, PORT_IPERF, cfg.iperfSeconds)).bps;
  const rounds: OvsResults['rounds'] = [];
  for (let r = 0; r < cfg.pairRounds; r++) {
    // The order alternates, so drift of the machine does not favour one side.
    const round = { emptyBps: 0, vnpBps: 0 };
    for (const which of r % 2 === 0 ? ['emptyBps', 'vnpBps'] : ['vnpBps', 'emptyBps'])
      if (which === 'emptyBps') {
        await apply(b, undefined);
        round.emptyBps = await once();
      } else {
        await apply(b, OVS_ENTRIES);
        round.vnpBps = await once();
      }
    rounds.push(round);
    log(
      `  OVS round ${r + 1}: no policy ${(round.emptyBps / 1e9).toFixed(2)}, ` +
        `${OVS_ENTRIES} entries ${(round.vnpBps / 1e9).toFixed(2)} Gbit/s (${(round.vnpBps / round.emptyBps).toFixed(3)})`,
    );
  }
  return rounds;
}

async function measureApply(b: OvsBench, cfg: OvsConfig): Promise<OvsResults['apply']> {
  await apply(b, OVS_ENTRIES);
  const agent = b.agents.get('h1')!;
  const wall: number[] = [];
  const flows: number[] = [];
  for (let k = 0; k < cfg.changes; k++) {
    const state = applyHostDelta(agent.state!, oneEntryPatch(agent.state!, k));
    const t0 = performance.now();
    await agent.applyState(state);
    wall.push(performance.now() - t0);
    flows.push(b.ovsPath.lastWritten);
    // Its sweep (behind the apply) must not overlap the next timed change.
    await agent.swept();
  }
  return {
    entries: OVS_ENTRIES,
    changes: cfg.changes,
    p50Ms: percentile(wall, 50),
    p99Ms: percentile(wall, 99),
    flowsP50: percentile(flows, 50),
  };
}

/**
 * Runs the OVS rows on their own network (removed in `finally`), or says why not.
 *
 * @example const ovs = await measureOvs(cfg, console.log);
 */
export async function measureOvs(cfg: OvsConfig, log: (l: string) => void): Promise<OvsResults> {
  const problem = privilegedProblem([...OVS_TOOLS, ['iperf3', '--version']], 'vnpb');
  if (problem) return { skipped: problem, rounds: [], conns: [] };
  const topo = buildBenchTopology(['h1', 'h2']);
  let ovs: TestOvs | undefined;
  let b: OvsBench | undefined;
  try {
    ovs = startOvs(topo.hosts[0]!.netns);
    log(`OVS: topology ${topo.prefix}-*, h1 an OVS host (bridge ${BRIDGE}), h2 nftables`);
    b = await setUp(topo, ovs, log);
    const conns = await measureConns(b, cfg, log);
    const apply = await measureApply(b, cfg);
    log(
      `  OVS one-entry change at ${OVS_ENTRIES}: applyState p50 ${apply!.p50Ms.toFixed(1)} ms ` +
        `p99 ${apply!.p99Ms.toFixed(1)} ms, ${apply!.flowsP50} flows written (p50)`,
    );
    const rounds = await measureRounds(b, cfg, log);
    return { rounds, conns, apply };
  } finally {
    for (const s of b?.servers ?? []) s.stop();
    ovs?.stop();
    topo.destroy();
  }
}

/** The report's OVS lines, and problems (allowed connections failing, a denied port open). */
export function ovsReport(o: OvsResults | undefined): { lines: string[]; problems: string[] } {
  if (!o) return { lines: [], problems: [] };
  if (o.skipped) return { lines: [`OVS rows: SKIPPED — ${o.skipped}`, ''], problems: [] };
  const ratios = o.rounds.map((r) => r.vnpBps / r.emptyBps);
  const problems: string[] = [];
  for (const c of o.conns) {
    if (c.conn.failures > 0 || c.conn.connections === 0)
      problems.push(`OVS ${c.entries}: ${c.conn.failures} connections of the allowed flow failed`);
    if (c.deniedBlocked === false)
      problems.push(`OVS ${c.entries}: a port nothing allows was reachable`);
  }
  const [small, large] = [o.conns[0], o.conns[1]];
  const lines = [
    'Open vSwitch (issue 15): h1 an OVS host (userspace datapath), h2 nftables; a (h1) → b (h2)',
    formatTable(
      ['entries', 'load', 'conn rate', 'connect p50', 'p99', 'failed', 'denied port blocked'],
      o.conns.map((c) => [
        c.entries.toLocaleString('en-US'),
        formatMs(c.loadMs),
        `${c.conn.connPerSec.toFixed(0)}/s`,
        formatMs(c.conn.p50Ms),
        formatMs(c.conn.p99Ms),
        String(c.conn.failures),
        c.deniedBlocked === undefined ? '-' : c.deniedBlocked ? 'yes' : 'NO',
      ]),
    ),
    ...(small && large
      ? [
          `  connect rate ${OVS_ENTRIES.toLocaleString('en-US')} ÷ ${SMALL} entries: ${formatRatio(large.conn.connPerSec / small.conn.connPerSec)}`,
        ]
      : []),
    ...(ratios.length > 0
      ? [
          `  throughput ${OVS_ENTRIES.toLocaleString('en-US')} entries ÷ the same bridge with no policy ` +
            `(median of ${ratios.length} interleaved rounds): ${formatRatio(percentile(ratios, 50))} ` +
            `(${o.rounds.map((r) => `${(r.emptyBps / 1e9).toFixed(2)}/${(r.vnpBps / 1e9).toFixed(2)}`).join(', ')} Gbit/s)`,
        ]
      : []),
    ...(o.apply
      ? [
          `  one-entry change at ${o.apply.entries.toLocaleString('en-US')} entries (applyState, ${o.apply.changes} changes): ` +
            `p50 ${formatMs(o.apply.p50Ms)}, p99 ${formatMs(o.apply.p99Ms)}; ${o.apply.flowsP50} flows written (p50)`,
        ]
      : []),
    '',
  ];
  return { lines, problems };
}
