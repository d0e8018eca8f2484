/**
 * The kernel agrees with `engine.check`: a model is compiled by the real Engine,
 * each host's `engine.hostState` is applied by the real Agent in its namespace,
 * and every (src, dst, port) flow's real TCP outcome (and some ICMP) must equal
 * the engine's verdict — before and after a tag change. The same conformance check
 * (support/conformance.ts) runs with an OVS host in ovs-datapath.privileged.test.ts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { Engine } from '../../src/engine/index.js';
import { startAgents } from './support/agents.js';
import { compareAll as compareAllWith } from './support/conformance.js';
import { modelDocs, PORTS, RECORDS } from './support/engine-model.js';
import { syncAgents } from './support/engine-states.js';
import { buildTopology, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { tcpServer, type Proc } from './support/traffic.js';

describePrivileged('kernel verdicts equal engine.check', {}, () => {
  let topo: Topology;
  const engine = new Engine();
  const agents = new Map<string, Agent>();
  const servers: Proc[] = [];
  let revision = 1;

  const sync = (): Promise<void> => syncAgents(engine, topo, agents, revision);

  // The conformance check the OVS PEP runs too (ovs-datapath.privileged.test.ts).
  const compareAll = (): Promise<void> => compareAllWith(engine, topo);

  beforeAll(async () => {
    topo = buildTopology(['h1', 'h2']);
    engine.load(modelDocs(topo.instanceNs), 0);
    await startAgents(topo, agents);
    await sync();
    for (const [name, r] of Object.entries(RECORDS))
      servers.push(await tcpServer(topo.instanceNs(name), r.ip, PORTS));
  }, 60_000);

  afterAll(() => {
    for (const s of servers) s.stop();
    topo?.destroy();
  });

  it('every flow of the model', async () => {
    await compareAll();
  });

  it('every flow after a tag change (ops becomes a web tier member of the shop)', async () => {
    const retagged = modelDocs(topo.instanceNs, { ops: { app: 'shop', tier: 'web' } }).find(
      (d) => d.kind === 'Interface' && d.name === 'ops',
    )!;
    engine.apply([{ op: 'put', doc: retagged }], 1);
    revision++;
    await sync();
    expect(engine.check({ src: 'ops', dst: 'app', protocol: 'tcp', port: 8080 }).verdict).toBe(
      'allow',
    );
    await compareAll();
  });
});
