/**
 * Steering in real namespaces (design.md §1 `routes[]`, docs/adr/0008-steering.md):
 * the real Engine compiles a model with a policy route, the real Agent applies each
 * host's state. A source on h1 reaches a destination on h3; a middlebox record on h2
 * (and, later, one on h1 beside the source) forwards in its instance namespace and
 * counts what it forwards. Steered traffic succeeds and is counted; other ports and
 * replies are not steered; the destination's ingress sees the source's identity (it
 * denies the middlebox); the Group Policy ID on the wire is the steer class to the via
 * host and the source's identity after it; IPv6 is steered too; a live connection
 * follows a renumbered class; a restarted agent adopts its policy routing; removing
 * the routes stops steering and removes every steering rule, route and chain; every
 * kernel verdict equals `engine.check`. Namespaces are prefixed `vnps-`.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { Engine } from '../../src/engine/index.js';
import type { HostState } from '../../src/model/host-state.js';
import type { Document, SteeringRoute } from '../../src/model/types.js';
import { hostAgent, startAgents } from './support/agents.js';
import { buildTopology, sh, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { decodeVxlanPcap } from './support/gbp.js';
import { refuseMiddleboxes, steerPolicy } from './support/steer-model.js';
import { forwarded as countForwarded, middlebox as makeMiddlebox } from './support/middlebox.js';
import { engineHostState, syncAgents } from './support/engine-states.js';
import {
  capture,
  pings,
  steadyClient,
  tcpConnects,
  tcpServer,
  type Proc,
} from './support/traffic.js';

const PREFIX = 'vnps';

const IP = {
  src: '10.20.0.1',
  dst: '10.20.0.3',
  fw: '10.20.0.10',
  fwl: '10.20.0.11',
  src6: 'fd20::1',
  dst6: 'fd20::3',
  fw6: 'fd20::10',
} as const;
const STEERED = 8080;
const DENIED = 7000;
const OTHER = 9090;
const PORTS = [STEERED, DENIED, OTHER];

function docs(topo: Topology, routes: SteeringRoute[]): Document[] {
  const inst = (name: string, host: string): Document => ({
    kind: 'Instance',
    name: `i-${name}`,
    host,
    netns: topo.instanceNs(name),
  });
  const rec = (name: keyof typeof IP, app: string): Document => ({
    kind: 'Interface',
    name,
    subnet: IP[name].includes(':') ? 'net6' : 'net',
    ips: [IP[name]],
    tags: { app },
    instance: `i-${name}`,
  });
  return [
    { kind: 'Subnet', name: 'net', cidr: '10.20.0.0/24' },
    { kind: 'Subnet', name: 'net6', cidr: 'fd20::/64' },
    inst('src6', 'h1'),
    inst('fw6', 'h2'),
    inst('dst6', 'h3'),
    rec('src6', 'src6'),
    rec('dst6', 'dst6'),
    rec('fw6', 'fw'),
    {
      kind: 'Policy',
      name: 'steer6',
      priority: 10,
      appliesTo: 'app == "src6"',
      ingress: [],
      egress: [],
      routes: [{ to: { selector: 'app == "dst6"' }, ports: [`tcp/${STEERED}`], via: 'fw6' }],
      mode: 'enforce',
    },
    {
      kind: 'Policy',
      name: 'dst6-in',
      priority: 100,
      appliesTo: 'app == "dst6"',
      ingress: [{ action: 'deny', from: { selector: 'app == "fw"' } }],
      egress: [],
      routes: [],
      mode: 'enforce',
    },
    inst('src', 'h1'),
    inst('fwl', 'h1'),
    inst('fw', 'h2'),
    inst('dst', 'h3'),
    rec('src', 'src'),
    rec('dst', 'dst'),
    rec('fw', 'fw'),
    rec('fwl', 'fw'),
    // The destination refuses the middleboxes: steered traffic passes only if its
    // ingress sees the source's identity, not the middlebox's.
    refuseMiddleboxes(),
    steerPolicy(routes),
  ];
}

const viaRoute = (via: string): SteeringRoute => ({
  to: { selector: 'app == "dst"' },
  ports: [`tcp/${STEERED}`, `tcp/${DENIED}`, 'icmp'],
  via,
});

describePrivileged('steering through a middlebox record', { prefix: PREFIX }, () => {
  let topo: Topology;
  const engine = new Engine();
  const agents = new Map<string, Agent>();
  const servers: Proc[] = [];
  let revision = 1;

  const stateOf = (host: string): HostState => engineHostState(engine, topo, host, revision);
  const sync = (): Promise<void> => syncAgents(engine, topo, agents, revision);

  async function setRoutes(routes: SteeringRoute[]): Promise<void> {
    const steer = docs(topo, routes).find((d) => d.name === 'steer')!;
    engine.apply([{ op: 'put', doc: steer }], revision);
    revision++;
    await sync();
  }

  const forwarded = (name: 'fw' | 'fwl' | 'fw6'): number => countForwarded(topo.instanceNs(name));
  const middlebox = (name: 'fw' | 'fwl' | 'fw6'): void => makeMiddlebox(topo.instanceNs(name));

  async function verdictsEqualCheck(): Promise<void> {
    const flows: { src: keyof typeof IP; dst: keyof typeof IP; port: number }[] = [
      ...PORTS.map((port) => ({ src: 'src' as const, dst: 'dst' as const, port })),
      { src: 'fw', dst: 'dst', port: STEERED },
      { src: 'dst', dst: 'src', port: STEERED },
    ];
    const got = await Promise.all(
      flows.map((f) => tcpConnects(topo.instanceNs(f.src), IP[f.dst], f.port, 1500)),
    );
    expect(
      flows.map((f, i) => `${f.src}->${f.dst}:${f.port} ${got[i] ? 'allow' : 'deny'}`),
    ).toEqual(
      flows.map(
        (f) =>
          `${f.src}->${f.dst}:${f.port} ${engine.check({ src: f.src, dst: f.dst, protocol: 'tcp', port: f.port }).verdict}`,
      ),
    );
  }

  beforeAll(async () => {
    topo = buildTopology(['h1', 'h2', 'h3'], PREFIX);
    engine.load(docs(topo, [viaRoute('fw')]), 0);
    await startAgents(topo, agents);
    await sync();
    middlebox('fw');
    middlebox('fwl');
    middlebox('fw6');
    servers.push(await tcpServer(topo.instanceNs('dst'), IP.dst, PORTS));
    servers.push(await tcpServer(topo.instanceNs('src'), IP.src, PORTS));
    servers.push(await tcpServer(topo.instanceNs('dst6'), IP.dst6, PORTS));
  }, 60_000);

  afterAll(() => {
    for (const s of servers) s.stop();
    topo?.destroy();
  });

  it('steers the routed port through the middlebox on another host', async () => {
    const route = engine.check({ src: 'src', dst: 'dst', protocol: 'tcp', port: STEERED }).route;
    expect(route).toMatchObject({ policy: 'steer', route: 'routes[0]', via: 'fw', active: true });
    const before = forwarded('fw');
    expect(await tcpConnects(topo.instanceNs('src'), IP.dst, STEERED, 1500)).toBe(true);
    expect(forwarded('fw')).toBeGreaterThan(before);
    expect(await pings(topo.instanceNs('src'), IP.dst, 1500)).toBe(true);
  });

  it('carries the steer class to the via host, then the source identity', async () => {
    const [h1, h2] = topo.hosts;
    const files = [0, 1].map((i) => join(tmpdir(), `${topo.prefix}-leg${i}.pcap`));
    const legs = [
      await capture(
        topo.underlayNs,
        'br0',
        files[0]!,
        `udp port 4789 and src host ${h1!.underlayIp}`,
      ),
      await capture(
        topo.underlayNs,
        'br0',
        files[1]!,
        `udp port 4789 and src host ${h2!.underlayIp}`,
      ),
    ];
    try {
      expect(await tcpConnects(topo.instanceNs('src'), IP.dst, STEERED, 1500)).toBe(true);
    } finally {
      // tcpdump hands packets over in blocks (up to ~1 s late without immediate mode).
      await new Promise((r) => setTimeout(r, 1200));
      for (const l of legs) await l.stop();
    }
    const [toVia, fromVia] = files.map((f) => {
      const pkts = decodeVxlanPcap(readFileSync(f)).filter(
        (p) => p.innerSrc === IP.src && p.innerDst === IP.dst,
      );
      rmSync(f, { force: true });
      return [...new Set(pkts.map((p) => p.groupPolicyId))];
    });
    const steer = engine.steering().find((c) => c.via === 'fw')!.class;
    expect(toVia).toEqual([steer]);
    expect(fromVia).toEqual([engine.recordIdentity('src')]);
  });

  it('steers IPv6 the same way', async () => {
    const before = forwarded('fw6');
    expect(await tcpConnects(topo.instanceNs('src6'), IP.dst6, STEERED, 1500)).toBe(true);
    const after = forwarded('fw6');
    expect(after).toBeGreaterThan(before);
    expect(await tcpConnects(topo.instanceNs('src6'), IP.dst6, OTHER, 1500)).toBe(true);
    expect(forwarded('fw6')).toBe(after);
    // dst6 refuses the middlebox: only the source's identity lets the steered flow in.
    expect(engine.check({ src: 'fw6', dst: 'dst6', protocol: 'tcp', port: STEERED }).verdict).toBe(
      'deny',
    );
  });

  it('leaves other ports and replies alone', async () => {
    const before = forwarded('fw');
    expect(await tcpConnects(topo.instanceNs('src'), IP.dst, OTHER, 1500)).toBe(true);
    expect(await tcpConnects(topo.instanceNs('dst'), IP.src, STEERED, 1500)).toBe(true);
    expect(forwarded('fw')).toBe(before);
  });

  it('kernel verdicts equal engine.check while steering', async () => {
    await verdictsEqualCheck();
  });

  it('steers through a middlebox on the source host; a live connection follows', async () => {
    // A live connection steered through fw (class 2); the new route renumbers class 2
    // to fwl, so the agent drops the old conntrack entry and the next packet is steered
    // again — through fwl — without breaking the connection.
    const client = await steadyClient(topo.instanceNs('src'), IP.dst, STEERED);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const fwBefore = forwarded('fw');
      await new Promise((r) => setTimeout(r, 300));
      expect(forwarded('fw')).toBeGreaterThan(fwBefore);
      const resteered = agents.get('h1')!.stats.resteeredFlows;
      await setRoutes([viaRoute('fwl')]);
      expect(agents.get('h1')!.stats.resteeredFlows).toBeGreaterThan(resteered);
      const fwl = forwarded('fwl');
      const received = servers[0]!.lines.length;
      await new Promise((r) => setTimeout(r, 600));
      expect(forwarded('fwl')).toBeGreaterThan(fwl);
      expect(servers[0]!.lines.length).toBeGreaterThan(received);
      expect(client.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    } finally {
      client.stop();
    }
    const [fw, fwl] = [forwarded('fw'), forwarded('fwl')];
    expect(await tcpConnects(topo.instanceNs('src'), IP.dst, STEERED, 1500)).toBe(true);
    expect(forwarded('fwl')).toBeGreaterThan(fwl);
    expect(forwarded('fw')).toBe(fw);
    await verdictsEqualCheck();
  });

  it('a restarted agent adopts its policy routing and keeps steering', async () => {
    const h1 = topo.hosts[0]!;
    const rules = () => sh(['ip', '-n', h1.netns, 'rule', 'show', 'pref', '7300']);
    const before = rules();
    const agent = hostAgent(h1);
    await agent.start();
    agents.set('h1', agent);
    await agent.applyState(stateOf('h1'));
    expect(rules()).toBe(before);
    const fwl = forwarded('fwl');
    expect(await tcpConnects(topo.instanceNs('src'), IP.dst, STEERED, 1500)).toBe(true);
    expect(forwarded('fwl')).toBeGreaterThan(fwl);
  });

  it('removing the route stops steering and removes the policy routing', async () => {
    engine.apply([{ op: 'delete', kind: 'Policy', name: 'steer6' }], revision);
    await setRoutes([]);
    const before = [forwarded('fw'), forwarded('fwl'), forwarded('fw6')];
    expect(await tcpConnects(topo.instanceNs('src'), IP.dst, STEERED, 1500)).toBe(true);
    expect(await tcpConnects(topo.instanceNs('src6'), IP.dst6, STEERED, 1500)).toBe(true);
    expect([forwarded('fw'), forwarded('fwl'), forwarded('fw6')]).toEqual(before);
    for (const h of topo.hosts)
      for (const fam of ['-4', '-6']) {
        expect(sh(['ip', '-n', h.netns, fam, 'rule', 'show'])).not.toMatch(/fwmark/);
        expect(
          sh(['ip', '-n', h.netns, fam, 'route', 'show', 'table', 'all', 'proto', '118']),
        ).not.toMatch(/table 7[3-5]\d\d/);
      }
    // No steering left anywhere: the hosts' tables have no steering chains either.
    for (const h of topo.hosts)
      expect(
        sh(['ip', 'netns', 'exec', h.netns, 'nft', 'list', 'table', 'inet', 'vnp']),
      ).not.toMatch(/pre-steer|transit|from-via/);
    // Nor the VXLAN devices' steer-class translation (src/agent/steer-wire.ts).
    for (const h of topo.hosts)
      expect(sh(['ip', 'netns', 'exec', h.netns, 'nft', 'list', 'tables'])).not.toMatch(
        /vnp-steer/,
      );
    await verdictsEqualCheck();
  });
});
