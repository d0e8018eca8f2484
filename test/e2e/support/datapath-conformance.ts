/**
 * The datapath conformance suite (src/agent/datapath.ts): the same scenarios for each
 * kind of PEP, in the way the stores share theirs (src/store/conformance*.ts). Three
 * hosts on one underlay; for `nftables` all run the nftables agent, for `ovs` h1 and
 * h3 run an Open vSwitch bridge (OvsDatapath, their own ovsdb-server and ovs-vswitchd)
 * and h2 the nftables agent, so every scenario also crosses kinds. One Engine compiles
 * the small engine model (engine-model.ts) and the steering model (steer-model.ts);
 * the real Agents apply each host's state. Scenarios:
 *
 * - every TCP flow of the engine model on every port, and some ICMP, equals
 *   `engine.check` — before and after a tag change;
 * - steering: each routed flow passes through its middlebox (its own counter) on a
 *   remote host, back to the source's host, from a second source, and beside the
 *   source; other ports and replies are not steered; the destinations refuse the
 *   middleboxes, so steered traffic passes only when they see the source; every
 *   verdict equals `engine.check`; removing the routes stops steering.
 *
 * `extra` registers a kind's own tests on the same topology (ovs: the wire, quarantine,
 * restart, fail-static).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { DatapathKind } from '../../../src/agent/datapath.js';
import { makeExec } from '../../../src/agent/exec.js';
import { OvsDatapath } from '../../../src/agent/ovs/ovs-datapath.js';
import { Engine } from '../../../src/engine/index.js';
import type { SteeringRoute } from '../../../src/model/types.js';
import { hostAgent } from './agents.js';
import { compareAll } from './conformance.js';
import { describePrivileged } from './describe-privileged.js';
import { modelDocs, PORTS, RECORDS } from './engine-model.js';
import { syncAgents } from './engine-states.js';
import { forwarded, middlebox } from './middlebox.js';
import { OVS_TOOLS, startOvs, type TestOvs } from './ovs.js';
import {
  DENIED,
  MIDDLEBOXES,
  OTHER,
  routeTo,
  STEER_PORTS,
  STEER_RECORDS,
  steerDocs,
  STEERED,
  steerPolicy,
  type SteerRecord,
} from './steer-model.js';
import { buildTopology, type TestHost, type Topology } from './topology.js';
import { pings, steadyClient, tcpConnects, tcpServer, type Proc } from './traffic.js';

/** The bridge of every OVS host. */
export const BRIDGE = 'vnpbr';

/** Which kind each host runs, per kind under test. */
export const HOST_KINDS: Record<DatapathKind, Record<string, DatapathKind>> = {
  nftables: { h1: 'nftables', h2: 'nftables', h3: 'nftables' },
  ovs: { h1: 'ovs', h2: 'nftables', h3: 'ovs' },
};

/** What a kind's own tests get. */
export interface ConformanceContext {
  readonly topo: Topology;
  readonly engine: Engine;
  readonly agents: Map<string, Agent>;
  readonly ovs: Map<string, TestOvs>;
  readonly ovsPaths: Map<string, OvsDatapath>;
  readonly servers: Map<string, Proc>;
  /** The engine revision of the next change (then `sync`). */
  nextRevision(): number;
  /** The engine's current revision (what the hosts apply). */
  current(): number;
  sync(): Promise<void>;
  /** Replaces the routes of the `steer` policy and syncs. */
  setRoutes(routes: SteeringRoute[]): Promise<void>;
}

class Harness implements ConformanceContext {
  topo!: Topology;
  readonly engine = new Engine();
  readonly agents = new Map<string, Agent>();
  readonly ovs = new Map<string, TestOvs>();
  readonly ovsPaths = new Map<string, OvsDatapath>();
  readonly servers = new Map<string, Proc>();
  private revision = 1;

  constructor(private readonly kind: DatapathKind) {}

  nextRevision(): number {
    return this.revision++;
  }

  current(): number {
    return this.revision;
  }

  sync(): Promise<void> {
    return syncAgents(this.engine, this.topo, this.agents, this.revision);
  }

  private agentFor(h: TestHost): Agent {
    if (HOST_KINDS[this.kind][h.name] !== 'ovs') return hostAgent(h);
    const ovs = startOvs(h.netns);
    this.ovs.set(h.name, ovs);
    const datapath = new OvsDatapath({
      bridge: BRIDGE,
      underlayIp: h.underlayIp,
      rundir: ovs.rundir,
      exec: makeExec(h.netns),
    });
    this.ovsPaths.set(h.name, datapath);
    return new Agent({ host: h.name, underlayIp: h.underlayIp, datapath });
  }

  async setUp(): Promise<void> {
    this.topo = buildTopology(['h1', 'h2', 'h3']);
    for (const h of this.topo.hosts) {
      const agent = this.agentFor(h);
      await agent.start();
      this.agents.set(h.name, agent);
    }
    const ns = this.topo.instanceNs;
    this.engine.load([...modelDocs(ns), ...steerDocs(ns)], 0);
    await this.sync();
    for (const m of MIDDLEBOXES) middlebox(ns(m));
    for (const [name, r] of Object.entries(RECORDS))
      this.servers.set(name, await tcpServer(ns(name), r.ip, PORTS));
    for (const name of ['src', 'dst', 'dst2', 'dst6'] as const)
      this.servers.set(name, await tcpServer(ns(name), STEER_RECORDS[name].ip, STEER_PORTS));
  }

  tearDown(): void {
    for (const s of this.servers.values()) s.stop();
    for (const o of this.ovs.values()) o.stop();
    this.topo?.destroy();
  }

  async setRoutes(routes: SteeringRoute[]): Promise<void> {
    this.engine.apply([{ op: 'put', doc: steerPolicy(routes) }], this.nextRevision());
    await this.sync();
  }

  /** Packets each middlebox forwarded. */
  counters(): Record<string, number> {
    return Object.fromEntries(MIDDLEBOXES.map((m) => [m, forwarded(this.topo.instanceNs(m))]));
  }

  /** Steering flows of the model: real TCP outcome vs `engine.check`. */
  async steerVerdictsEqualCheck(): Promise<void> {
    const flows: [SteerRecord, SteerRecord, number][] = [
      ...STEER_PORTS.flatMap((p): [SteerRecord, SteerRecord, number][] => [
        ['src', 'dst', p],
        ['src', 'dst2', p],
        ['src2', 'dst', p],
        ['src2', 'dst2', p],
        ['src6', 'dst6', p],
      ]),
      ['fw', 'dst', STEERED],
      ['fw3', 'dst2', STEERED],
      ['dst', 'src', STEERED],
    ];
    const ns = this.topo.instanceNs;
    const got = await Promise.all(
      flows.map(([s, d, p]) => tcpConnects(ns(s), STEER_RECORDS[d].ip, p, 1500)),
    );
    const line = ([s, d, p]: [string, string, number], v: string) => `${s}->${d}:${p} ${v}`;
    expect(flows.map((f, i) => line(f, got[i] ? 'allow' : 'deny'))).toEqual(
      flows.map((f) =>
        line(f, this.engine.check({ src: f[0], dst: f[1], protocol: 'tcp', port: f[2] }).verdict),
      ),
    );
  }

  /** `src` reaches `dst` on `port`, through `via` (its counter grows) and no other. */
  async steeredThrough(src: SteerRecord, dst: SteerRecord, via: string): Promise<void> {
    const route = this.engine.check({ src, dst, protocol: 'tcp', port: STEERED }).route;
    expect(route).toMatchObject({ via, active: true });
    const before = this.counters();
    const ns = this.topo.instanceNs;
    expect(await tcpConnects(ns(src), STEER_RECORDS[dst].ip, STEERED, 1500)).toBe(true);
    const after = this.counters();
    for (const m of MIDDLEBOXES)
      if (m === via) expect(after[m], `${src}->${dst} through ${m}`).toBeGreaterThan(before[m]!);
      else expect(after[m], `${src}->${dst} not through ${m}`).toBe(before[m]);
  }
}

function modelScenarios(h: Harness): void {
  it('every flow of the engine model equals engine.check', async () => {
    await compareAll(h.engine, h.topo);
  });

  it('every flow after a tag change (ops becomes a web tier member of the shop)', async () => {
    const retagged = modelDocs(h.topo.instanceNs, { ops: { app: 'shop', tier: 'web' } }).find(
      (d) => d.kind === 'Interface' && d.name === 'ops',
    )!;
    h.engine.apply([{ op: 'put', doc: retagged }], h.nextRevision());
    await h.sync();
    expect(h.engine.check({ src: 'ops', dst: 'app', protocol: 'tcp', port: 8080 }).verdict).toBe(
      'allow',
    );
    await compareAll(h.engine, h.topo);
  });
}

function steeringScenarios(h: Harness): void {
  it('steers each routed flow through its middlebox, across hosts', async () => {
    await h.steeredThrough('src', 'dst', 'fw');
    await h.steeredThrough('src', 'dst2', 'fw3');
    await h.steeredThrough('src2', 'dst', 'fw3');
    await h.steeredThrough('src2', 'dst2', 'fw3');
    const before = h.counters().fw!;
    expect(await pings(h.topo.instanceNs('src'), STEER_RECORDS.dst.ip, 1500)).toBe(true);
    expect(h.counters().fw).toBeGreaterThan(before);
  });

  it('steers IPv6 the same way', async () => {
    await h.steeredThrough('src6', 'dst6', 'fw6');
    const before = h.counters();
    expect(await tcpConnects(h.topo.instanceNs('src6'), STEER_RECORDS.dst6.ip, OTHER, 1500)).toBe(
      true,
    );
    expect(h.counters()).toEqual(before);
  });

  it('leaves other ports and replies alone', async () => {
    const before = h.counters();
    const ns = h.topo.instanceNs;
    expect(await tcpConnects(ns('src'), STEER_RECORDS.dst.ip, OTHER, 1500)).toBe(true);
    expect(await tcpConnects(ns('dst'), STEER_RECORDS.src.ip, STEERED, 1500)).toBe(true);
    expect(h.counters()).toEqual(before);
  });

  it('verdicts equal engine.check while steering (the destinations refuse middleboxes)', async () => {
    expect(h.engine.check({ src: 'fw', dst: 'dst', protocol: 'tcp', port: STEERED }).verdict).toBe(
      'deny',
    );
    expect(h.engine.check({ src: 'src', dst: 'dst', protocol: 'tcp', port: DENIED }).verdict).toBe(
      'deny',
    );
    await h.steerVerdictsEqualCheck();
  });

  it('steers through a middlebox beside the source; a live connection follows', async () => {
    // A live connection steered through fw (class 2); the new routes renumber class 2
    // to fw3 and give fwl class 3, so the agent forgets the connection and its next
    // packet is steered again — through fwl — without breaking it.
    const client = await steadyClient(h.topo.instanceNs('src'), STEER_RECORDS.dst.ip, STEERED);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const resteered = h.agents.get('h1')!.stats.resteeredFlows;
      await h.setRoutes([routeTo('dst', 'fwl'), routeTo('dst2', 'fw3')]);
      expect(h.agents.get('h1')!.stats.resteeredFlows).toBeGreaterThan(resteered);
      const before = h.counters();
      const received = h.servers.get('dst')!.lines.length;
      // Until the connection's next packets went through fwl and reached dst (a fixed
      // 600 ms wait saw none under a loaded CI: 0 > 0), and none through fw meanwhile.
      const seen = { interval: 100, timeout: 10_000 };
      await expect.poll(() => h.counters().fwl, seen).toBeGreaterThan(before.fwl!);
      await expect.poll(() => h.servers.get('dst')!.lines.length, seen).toBeGreaterThan(received);
      expect(h.counters().fw).toBe(before.fw);
      expect(client.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    } finally {
      client.stop();
    }
    await h.steeredThrough('src', 'dst', 'fwl');
    await h.steeredThrough('src', 'dst2', 'fw3');
    // Only paths changed: the verdicts were compared with the first routes, and are
    // again after the removal below.
  });

  it('removing the routes stops steering', async () => {
    for (const name of ['steer2', 'steer6'])
      h.engine.apply([{ op: 'delete', kind: 'Policy', name }], h.nextRevision());
    await h.setRoutes([]);
    const before = h.counters();
    const ns = h.topo.instanceNs;
    expect(await tcpConnects(ns('src'), STEER_RECORDS.dst.ip, STEERED, 1500)).toBe(true);
    expect(await tcpConnects(ns('src2'), STEER_RECORDS.dst2.ip, STEERED, 1500)).toBe(true);
    expect(await tcpConnects(ns('src6'), STEER_RECORDS.dst6.ip, STEERED, 1500)).toBe(true);
    expect(h.counters()).toEqual(before);
    await h.steerVerdictsEqualCheck();
  });
}

/**
 * Registers the suite for `kind`; `extra` adds the kind's own tests after it.
 *
 * @example datapathConformance('ovs', (ctx) => { it('…', async () => { … }); });
 */
export function datapathConformance(
  kind: DatapathKind,
  extra?: (ctx: ConformanceContext) => void,
): void {
  const tools =
    kind === 'ovs' ? [...OVS_TOOLS, ['nft', '--version'], ['tcpdump', '--version']] : undefined;
  describePrivileged(`datapath conformance: ${kind}`, tools ? { tools } : {}, () => {
    const h = new Harness(kind);
    beforeAll(() => h.setUp(), 90_000);
    afterAll(() => h.tearDown());
    modelScenarios(h);
    steeringScenarios(h);
    extra?.(h);
  });
}
