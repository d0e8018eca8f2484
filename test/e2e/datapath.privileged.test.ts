/**
 * The Linux PEP datapath against the real kernel: three host namespaces on an
 * underlay bridge, the real Agent in each (nft + links via `ip netns exec`), real
 * TCP/ICMP traffic between instance namespaces, and a pcap of the VXLAN-GBP
 * header. Needs root, nft, ip netns, conntrack, tcpdump and python3.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { makeExec } from '../../src/agent/exec.js';
import { LinkReconciler } from '../../src/agent/link/reconcile.js';
import { vethName } from '../../src/agent/names.js';
import { applyChecked, hostAgent, startAgents } from './support/agents.js';
import { decodeVxlanPcap } from './support/gbp.js';
import { peerEntry } from './support/host-states.js';
import { baselineSides, ID, PORT_OK, PORT_OTHER, records, statesFor } from './support/scenario.js';
import { buildTopology, sh, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import {
  capture,
  pings,
  steadyClient,
  tcpConnects,
  tcpServer,
  type Proc,
} from './support/traffic.js';

describePrivileged('datapath (real kernel, three hosts)', {}, () => {
  let topo: Topology;
  const agents = new Map<string, Agent>();
  const servers: Proc[] = [];
  const ns = (rec: string) => topo.instanceNs(rec);

  /** Every host's state, and the sweeps after them (connections checked next are cut). */
  async function applyAll(states: ReturnType<typeof statesFor>): Promise<void> {
    await Promise.all(
      [...states].map(async ([host, st]) => {
        await applyChecked(agents.get(host)!, host, st);
        await agents.get(host)!.swept();
      }),
    );
  }

  const newAgent = (host: string) => hostAgent(topo.hosts.find((x) => x.name === host)!);

  beforeAll(async () => {
    topo = buildTopology(['h1', 'h2', 'h3']);
    await startAgents(topo, agents);
    await applyAll(statesFor(topo, 1, records(topo), baselineSides()));
    servers.push(await tcpServer(ns('b'), '::', [PORT_OK, PORT_OTHER]));
    servers.push(await tcpServer(ns('c'), '0.0.0.0', [PORT_OK]));
    servers.push(await tcpServer(ns('d'), '0.0.0.0', [PORT_OK]));
    servers.push(await tcpServer(ns('a'), '0.0.0.0', [PORT_OK]));
  }, 60_000);

  afterAll(() => {
    for (const s of servers) s.stop();
    topo?.destroy();
  });

  it('allows and denies flows across hosts and on one host, both families', async () => {
    const [ab, abOther, ac, ad, da, ab6, pingAb, pingBa, pingAd] = await Promise.all([
      tcpConnects(ns('a'), '10.10.0.2', PORT_OK),
      tcpConnects(ns('a'), '10.10.0.2', PORT_OTHER),
      tcpConnects(ns('a'), '10.10.0.3', PORT_OK),
      tcpConnects(ns('a'), '10.10.0.4', PORT_OK),
      tcpConnects(ns('d'), '10.10.0.1', PORT_OK),
      tcpConnects(ns('a'), 'fd10::2', PORT_OK),
      pings(ns('a'), '10.10.0.2'),
      pings(ns('b'), '10.10.0.1'),
      pings(ns('a'), '10.10.0.4'),
    ]);
    expect({ ab, abOther, ac, ad, da, ab6, pingAb, pingBa, pingAd }).toEqual({
      ab: true, // a egress allow, b ingress allow (cross host)
      abOther: false, // no rule: default deny
      ac: false, // a egress allows, c ingress denies (identity arrives in GBP)
      ad: true, // same host: both sides on h1
      da: false, // d has no egress rule
      ab6: true,
      pingAb: true, // icmp allowed, logged at b
      pingBa: false,
      pingAd: false, // logged by a's egress, then denied by d's ingress (same host)
    });
    // The log chains counted what they logged (the kernel log itself is not visible
    // from a test namespace): b's ingress (h2), and a's egress (h1) although d's
    // ingress then denied the ping.
    const ingressLog = logRule('h2', 'lg-api-ingress-1');
    expect(ingressLog.prefix).toBe('vnp:api:ingress[1] ');
    expect(ingressLog.packets).toBeGreaterThan(0);
    const egressLog = logRule('h1', 'lg-web-egress-2');
    expect(egressLog.prefix).toBe('vnp:web:egress[2] ');
    expect(egressLog.packets).toBeGreaterThan(0);
  });

  /** The log prefix and packet counter of a log chain on a host. */
  function logRule(host: string, chain: string): { prefix?: string; packets?: number } {
    const h = topo.hosts.find((x) => x.name === host)!;
    const listing = JSON.parse(
      sh(['ip', 'netns', 'exec', h.netns, 'nft', '-j', 'list', 'chain', 'inet', 'vnp', chain]),
    ) as {
      nftables: {
        rule?: { expr: { counter?: { packets: number }; log?: { prefix: string } }[] };
      }[];
    };
    const rule = listing.nftables.find((x) => x.rule)!.rule!;
    return {
      prefix: rule.expr.find((e) => e.log)?.log?.prefix,
      packets: rule.expr.find((e) => e.counter)?.counter?.packets,
    };
  }

  it('carries the source identity in the VXLAN Group Policy ID', async () => {
    const file = join(tmpdir(), `${topo.prefix}-gbp.pcap`);
    const cap = await capture(topo.underlayNs, 'br0', file, 'udp port 4789');
    let tcpdumpSaid: string;
    try {
      expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OK)).toBe(true);
      expect(await pings(ns('a'), '10.10.0.3')).toBe(false);
    } finally {
      tcpdumpSaid = await cap.stop();
    }
    const pkts = decodeVxlanPcap(readFileSync(file));
    rmSync(file, { force: true });
    const fromA = pkts.filter((p) => p.innerSrc === '10.10.0.1');
    const fromB = pkts.filter((p) => p.innerSrc === '10.10.0.2');
    const seen = [
      ...pkts.map((p) => `${p.innerSrc}->${p.innerDst} gbp=${p.groupPolicyId}`),
      `tcpdump: ${tcpdumpSaid}`,
    ];
    expect(fromA.length, seen.join(', ')).toBeGreaterThan(0);
    expect(fromB.length, seen.join(', ')).toBeGreaterThan(0);
    for (const p of fromA) expect(p).toMatchObject({ gbp: true, groupPolicyId: ID.a, vni: 1 });
    for (const p of fromB) expect(p).toMatchObject({ gbp: true, groupPolicyId: ID.b });
  });

  it('trusts the GBP mark over the ipcache for traffic from the overlay', async () => {
    // h3 believes (stale ipcache) that 10.10.0.1 is identity 999, and c accepts only 256.
    // The connection works only if h3 takes a's identity from the VXLAN header.
    const sides = [
      ...baselineSides(),
      {
        identity: ID.c,
        direction: 'ingress' as const,
        cidr: [],
        any: [],
        peers: [peerEntry(ID.a, 'tcp', PORT_OK, PORT_OK, 'allow')],
      },
    ];
    const states = statesFor(topo, 100, records(topo), sides);
    const h3 = states.get('h3')!;
    const stale = {
      ...h3,
      remotes: h3.remotes.map((r) => (r.name === 'a' ? { ...r, identity: 999 } : r)),
      ipcache: h3.ipcache.map((e) => (e.ip === '10.10.0.1' ? { ...e, identity: 999 } : e)),
    };
    await agents.get('h3')!.applyState(stale);
    try {
      expect(await tcpConnects(ns('a'), '10.10.0.3', PORT_OK)).toBe(true);
      // From h1's other record d (identity 259, not allowed by c) it stays denied.
      expect(await tcpConnects(ns('d'), '10.10.0.3', PORT_OK, 500)).toBe(false);
    } finally {
      await agents
        .get('h3')!
        .applyState(statesFor(topo, 101, records(topo), baselineSides()).get('h3')!);
    }
    expect(await tcpConnects(ns('a'), '10.10.0.3', PORT_OK, 500)).toBe(false);
  });

  it('reconciles idempotently and leaves links and routes it does not own alone', async () => {
    const h2 = topo.hosts.find((h) => h.name === 'h2')!;
    // A veth (the kind the agent deletes) with a name the agent does not own.
    sh(['ip', '-n', h2.netns, 'link', 'add', 'keep0', 'type', 'veth', 'peer', 'name', 'keep1']);
    sh(['ip', '-n', h2.netns, 'link', 'set', 'keep0', 'up']);
    sh(['ip', '-n', h2.netns, 'route', 'add', '10.10.0.200/32', 'dev', 'keep0']);
    const links = new LinkReconciler({ exec: makeExec(h2.netns), underlayIp: h2.underlayIp });
    const st = statesFor(topo, 102, records(topo), baselineSides()).get('h2')!;
    expect(await links.reconcile(st)).toMatchObject({ created: [], removed: [] });
    // A state without b removes b's veth, and nothing of ours remains for it; keep0 stays.
    const without = statesFor(topo, 103, records(topo, { b: null }), baselineSides()).get('h2')!;
    expect((await links.reconcile(without)).removed).toEqual([vethName('b')]);
    const after = sh(['ip', '-n', h2.netns, '-j', 'link', 'show']);
    expect(after).toContain('keep0');
    expect(sh(['ip', '-n', h2.netns, 'route', 'show'])).toContain('10.10.0.200 dev keep0');
    expect((await links.reconcile(st)).created).toEqual([vethName('b')]);
    sh(['ip', '-n', h2.netns, 'link', 'del', 'keep0']);
  });

  it('a record that cannot be plumbed does not block the policy of the others', async () => {
    const agent = agents.get('h2')!;
    const failures = agent.stats.linkFailures;
    // A valid name (the agent refuses invalid ones before any command) whose
    // /run/netns entry is a plain file, not a namespace: `ip -n` fails on it.
    const badNs = `${topo.prefix}-notns`;
    mkdirSync('/run/netns', { recursive: true });
    writeFileSync(`/run/netns/${badNs}`, '');
    const bad = { name: 'e', identity: 270, ips: ['10.10.0.9'], host: 'h2', netns: badNs };
    const opened = baselineSides();
    opened[1]!.peers.push(
      peerEntry(ID.a, 'tcp', PORT_OTHER, PORT_OTHER, 'allow', 'api', 'ingress[2]'),
    );
    opened[0]!.peers.push(
      peerEntry(ID.b, 'tcp', PORT_OTHER, PORT_OTHER, 'allow', 'web', 'egress[2]'),
    );
    const states = statesFor(topo, 110, [...records(topo), bad], opened);
    await Promise.all([...states].map(([host, st]) => agents.get(host)!.applyState(st)));
    try {
      expect(agent.stats.linkFailures).toBe(failures + 1);
      expect(agent.stats.lastRevision).toBe(110);
      expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OTHER)).toBe(true);
      await applyAll(statesFor(topo, 111, records(topo), baselineSides()));
    } finally {
      rmSync(`/run/netns/${badNs}`, { force: true });
    }
  });

  it('a quarantine (new identity, deny all) kills an established TCP connection', async () => {
    const client = await steadyClient(ns('a'), '10.10.0.2', PORT_OK);
    const server = servers[0]!;
    try {
      const count = () => server.lines.filter((l) => l.startsWith(`data ${PORT_OK}`)).length;
      const before = count();
      await new Promise((r) => setTimeout(r, 400));
      expect(count()).toBeGreaterThan(before);
      await applyAll(
        statesFor(topo, 2, records(topo, { a: { identity: ID.quarantined } }), baselineSides()),
      );
      await new Promise((r) => setTimeout(r, 300));
      const frozen = count();
      await new Promise((r) => setTimeout(r, 700));
      expect(count()).toBe(frozen);
      expect(
        agents.get('h1')!.stats.killedFlows + agents.get('h2')!.stats.killedFlows,
      ).toBeGreaterThan(0);
      expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OK)).toBe(false);
    } finally {
      client.stop();
    }
    // Lifting the quarantine restores new flows.
    await applyAll(statesFor(topo, 3, records(topo), baselineSides()));
    expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OK)).toBe(true);
  });

  it('a tightened policy cuts the connections it denies, listed by ct mark; the others live', async () => {
    // a (h1) → b (h2) and → d (h1: local to local); both carry a's ct mark on h1.
    const clients = await Promise.all(
      ['10.10.0.2', '10.10.0.4'].map((ip) => steadyClient(ns('a'), ip, PORT_OK)),
    );
    const [toB, toD] = [servers[0]!, servers[2]!];
    const count = (s: Proc) => s.lines.filter((l) => l.startsWith(`data ${PORT_OK}`)).length;
    /** Which of the servers receive data over the next 700 ms (after 300 ms to settle). */
    const receiving = async (of: Proc[]): Promise<boolean[]> => {
      await new Promise((r) => setTimeout(r, 300));
      const before = of.map(count);
      await new Promise((r) => setTimeout(r, 700));
      return of.map((s, i) => count(s) > before[i]!);
    };
    const h1 = agents.get('h1')!;
    const fulls = h1.stats.fullApplies;
    try {
      expect(await receiving([toB, toD])).toEqual([true, true]);
      // a's egress loses its allow to b (an entry removed: a's identity tightened).
      const noB = baselineSides();
      noB[0]!.peers.splice(0, 1);
      const killed = h1.stats.killedFlows;
      await applyAll(statesFor(topo, 200, records(topo), noB));
      // Both of a's connections were listed and judged: a → d is still allowed and lives.
      expect(await receiving([toB, toD])).toEqual([false, true]);
      // (and closed connections of earlier probes to b, still in conntrack)
      const afterB = h1.stats.killedFlows;
      expect(afterB).toBeGreaterThan(killed);
      // d's ingress loses its allow from a: the connection a → d carries a's mark, not
      // d's, and is found as a local sender's.
      const noD = baselineSides();
      noD[0]!.peers.splice(0, 1);
      noD[2]!.peers = [];
      await applyAll(statesFor(topo, 201, records(topo), noD));
      expect(await receiving([toD])).toEqual([false]);
      expect(h1.stats.killedFlows).toBeGreaterThan(afterB);
      // Both went in as deltas: the sweeps were the scoped ones, not a whole-table sweep.
      expect(h1.stats.fullApplies).toBe(fulls);
    } finally {
      for (const c of clients) c.stop();
      await applyAll(statesFor(topo, 202, records(topo), baselineSides()));
    }
  });

  it('a policy change flips a flow both ways (delta applies)', async () => {
    const opened = baselineSides();
    opened[1]!.peers.push({
      peer: ID.a,
      proto: 'tcp',
      ports: [PORT_OTHER, PORT_OTHER],
      verdict: 'allow',
      policy: 'api',
      rule: 'ingress[2]',
    });
    opened[0]!.peers.push({
      peer: ID.b,
      proto: 'tcp',
      ports: [PORT_OTHER, PORT_OTHER],
      verdict: 'allow',
      policy: 'web',
      rule: 'egress[2]',
    });
    const deltas = agents.get('h1')!.stats.deltaApplies;
    const fulls = [...agents.values()].map((a) => a.stats.fullApplies);
    await applyAll(statesFor(topo, 4, records(topo), opened));
    expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OTHER)).toBe(true);
    await applyAll(statesFor(topo, 5, records(topo), baselineSides()));
    expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OTHER)).toBe(false);
    expect(agents.get('h1')!.stats.deltaApplies).toBeGreaterThan(deltas);
    // Every update went in as a delta: none was refused and replaced by a full ruleset.
    expect([...agents.values()].map((a) => a.stats.fullApplies)).toEqual(fulls);
  });

  it('detaches and moves a record to another host', async () => {
    const h1 = topo.hosts.find((h) => h.name === 'h1')!;
    await applyAll(statesFor(topo, 6, records(topo, { d: null }), baselineSides()));
    expect(sh(['ip', '-n', h1.netns, '-j', 'link', 'show']).includes(vethName('d'))).toBe(false);
    expect(await tcpConnects(ns('a'), '10.10.0.4', PORT_OK, 500)).toBe(false);
    // d moves to h3, into a new instance namespace.
    const moved = records(topo, { d: { host: 'h3', netns: topo.instanceNs('d2') } });
    await applyAll(statesFor(topo, 7, moved, baselineSides()));
    const srv = await tcpServer(ns('d2'), '0.0.0.0', [PORT_OK]);
    servers.push(srv);
    expect(await tcpConnects(ns('a'), '10.10.0.4', PORT_OK)).toBe(true);
    expect(await tcpConnects(ns('c'), '10.10.0.4', PORT_OK)).toBe(false);
  });

  it('a restarted agent adopts the table: policy holds throughout, then it resyncs', async () => {
    const h1 = topo.hosts.find((h) => h.name === 'h1')!;
    const fresh = newAgent('h1');
    await fresh.start();
    expect(fresh.stats.adopted).toBe(true);
    // Between start and the first state the old table still enforces.
    expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OTHER, 500)).toBe(false);
    expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OK)).toBe(true);
    const moved = records(topo, { d: { host: 'h3', netns: topo.instanceNs('d2') } });
    await fresh.applyState(statesFor(topo, 8, moved, baselineSides()).get('h1')!);
    agents.set('h1', fresh);
    expect(fresh.stats.fullApplies).toBe(1);
    expect(sh(['ip', 'netns', 'exec', h1.netns, 'nft', 'list', 'table', 'inet', 'vnp'])).toContain(
      'fwd-egress',
    );
    expect(await tcpConnects(ns('a'), '10.10.0.2', PORT_OK)).toBe(true);
  });
});
