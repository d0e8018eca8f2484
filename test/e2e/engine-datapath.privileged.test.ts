/**
 * The kernel agrees with `engine.check`: a model is compiled by the real Engine,
 * each host's `engine.hostState` is applied by the real Agent in its namespace,
 * and every (src, dst, port) flow's real TCP outcome (and some ICMP) must equal
 * the engine's verdict — before and after a tag change.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { Engine } from '../../src/engine/index.js';
import { startAgents } from './support/agents.js';
import { modelDocs, PORTS, RECORDS } from './support/engine-model.js';
import { syncAgents } from './support/engine-states.js';
import { buildTopology, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { pings, tcpConnects, tcpServer, type Proc } from './support/traffic.js';

describePrivileged('kernel verdicts equal engine.check', {}, () => {
  let topo: Topology;
  const engine = new Engine();
  const agents = new Map<string, Agent>();
  const servers: Proc[] = [];
  let revision = 1;

  const sync = (): Promise<void> => syncAgents(engine, topo, agents, revision);

  async function compareAll(): Promise<void> {
    const names = Object.keys(RECORDS);
    const flows = names.flatMap((src) =>
      names.filter((d) => d !== src).flatMap((dst) => PORTS.map((port) => ({ src, dst, port }))),
    );
    const actual = await Promise.all(
      flows.map((f) => tcpConnects(topo.instanceNs(f.src), RECORDS[f.dst]!.ip, f.port)),
    );
    const got = flows.map(
      (f, i) => `${f.src}->${f.dst}:tcp/${f.port} ${actual[i] ? 'allow' : 'deny'}`,
    );
    const want = flows.map(
      (f) =>
        `${f.src}->${f.dst}:tcp/${f.port} ${engine.check({ src: f.src, dst: f.dst, protocol: 'tcp', port: f.port }).verdict}`,
    );
    expect(got).toEqual(want);
    // Both verdicts occur, so the comparison can fail either way.
    expect(want.some((w) => w.endsWith('allow')) && want.some((w) => w.endsWith('deny'))).toBe(
      true,
    );
    const icmp = [
      ['web', 'app'],
      ['app', 'web'],
      ['ops', 'db'],
    ] as const;
    const pinged = await Promise.all(
      icmp.map(([s, d]) => pings(topo.instanceNs(s), RECORDS[d]!.ip)),
    );
    expect(icmp.map(([s, d], i) => `${s}->${d}:icmp ${pinged[i] ? 'allow' : 'deny'}`)).toEqual(
      icmp.map(
        ([s, d]) => `${s}->${d}:icmp ${engine.check({ src: s, dst: d, protocol: 'icmp' }).verdict}`,
      ),
    );
  }

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
