/**
 * The end-to-end figure alone (`npm run bench -- datapath-e2e`): the data-plane
 * suite's topology, its two agents and b's TCP server, then only the tag flips of
 * bench/datapath-e2e.ts — minutes less than the whole suite, for before/after runs
 * of the agent's update path. `VNP_BENCH_FLIPS` sets the number of flips.
 */
import type { Agent } from '../src/agent/agent.js';
import { startAgents } from '../test/e2e/support/agents.js';
import { tcpServer, type Proc } from '../test/e2e/support/traffic.js';
import { formatBreakdown } from './datapath-e2e-timeline.js';
import { measureEndToEnd } from './datapath-e2e.js';
import { benchRecords, benchStates, IP_B, PORT_CONN } from './datapath-states.js';
import { benchProblem, buildBenchTopology } from './datapath-topology.js';
import type { RunOptions, Suite } from './run.js';

async function runEndToEnd({ quick, log }: RunOptions) {
  const problem = benchProblem();
  if (problem)
    return { json: { skipped: problem }, report: `data plane e2e: SKIPPED — ${problem}`, ok: true };
  const flips = Number(process.env.VNP_BENCH_FLIPS ?? (quick ? 10 : 30));
  const topo = buildBenchTopology(['h1', 'h2']);
  let server: Proc | undefined;
  const agents = new Map<string, Agent>();
  try {
    log(`topology ${topo.prefix}-*: hosts h1 and h2, instances a (h1) → b (h2)`);
    await startAgents(topo, agents, (h) => ({ log: (m) => log(`  [agent ${h.name}] ${m}`) }));
    // The first state plumbs the veths (b's namespace) before b's server starts in it.
    const underlay = Object.fromEntries(topo.hosts.map((h) => [h.name, h.underlayIp]));
    const states = benchStates(benchRecords(topo.instanceNs), underlay, 10, 1);
    await Promise.all([...states].map(([h, st]) => agents.get(h)!.applyState(st)));
    server = await tcpServer(topo.instanceNs('b'), IP_B, [PORT_CONN]);
    const endToEnd = await measureEndToEnd(topo, agents, flips, log);
    const report = [
      `tag change → enforced (p99 target ≤ 50 ms): p50 ${endToEnd.p50Ms.toFixed(1)} ms, ` +
        `p99 ${endToEnd.p99Ms.toFixed(1)} ms over ${flips} flips (${endToEnd.missed} missed)`,
      ...formatBreakdown(endToEnd.breakdown),
    ].join('\n');
    return { json: { endToEnd }, report, ok: endToEnd.missed === 0 };
  } finally {
    server?.stop();
    for (const a of agents.values()) a.datapath.close?.();
    topo.destroy();
  }
}

/** The suite registered in bench/run.ts. */
export const datapathEndToEndSuite: Suite = { run: runEndToEnd };
