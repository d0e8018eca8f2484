/**
 * The datapath conformance suite (support/datapath-conformance.ts) with Open vSwitch
 * hosts: h1 and h3 run OvsDatapath (each its own ovsdb-server and ovs-vswitchd in its
 * namespace), h2 the nftables agent — the same scenarios as
 * conformance-nftables.privileged.test.ts, every path crossing kinds. Then the OVS
 * PEP's own: the bridge is secure, a one-entry change is a small bundle, the wire
 * (GBP IDs and steer classes both ways), a quarantine cutting a live connection on the
 * bridge, the program rewritten after ovs-vswitchd is killed and restarted, fail-static.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { makeExec } from '../../src/agent/exec.js';
import { OvsDatapath } from '../../src/agent/ovs/ovs-datapath.js';
import { steerMac } from '../../src/agent/steer-wire.js';
import { compareAll } from './support/conformance.js';
import {
  BRIDGE,
  datapathConformance,
  type ConformanceContext,
} from './support/datapath-conformance.js';
import { modelDocs, RECORDS } from './support/engine-model.js';
import { decodeVxlanPcap, type VxlanPacket } from './support/gbp.js';
import { routeTo, STEER_RECORDS, steerDocs, STEERED } from './support/steer-model.js';
import { sh } from './support/topology.js';
import { capture, steadyClient, tcpConnects } from './support/traffic.js';

/** Flows in h1's bridge. */
function flows(ctx: ConformanceContext): number {
  const rundir = ctx.ovs.get('h1')!.rundir;
  return sh(['ovs-ofctl', '-O', 'OpenFlow15', 'dump-flows', `unix:${rundir}/${BRIDGE}.mgmt`])
    .split('\n')
    .filter((l) => l.includes('actions=')).length;
}

/** The VXLAN packets on the underlay while `traffic` runs. */
async function onTheWire(
  ctx: ConformanceContext,
  traffic: () => Promise<void>,
): Promise<VxlanPacket[]> {
  const file = join(tmpdir(), `${ctx.topo.prefix}-ovs-gbp.pcap`);
  const cap = await capture(ctx.topo.underlayNs, 'br0', file, 'udp port 4789');
  try {
    await traffic();
  } finally {
    // tcpdump hands packets over in blocks (up to ~1 s late without immediate mode).
    await new Promise((r) => setTimeout(r, 1200));
    await cap.stop();
  }
  const pkts = decodeVxlanPcap(readFileSync(file));
  rmSync(file, { force: true });
  return pkts;
}

function ovsOwn(ctx: ConformanceContext): void {
  it('the OVS agents report their kind, and the bridge is secure', () => {
    expect(ctx.agents.get('h1')!.datapath.kind).toBe('ovs');
    expect(ctx.agents.get('h2')!.datapath.kind).toBe('nftables');
    const db = `--db=unix:${ctx.ovs.get('h1')!.rundir}/db.sock`;
    expect(sh(['ovs-vsctl', db, 'get', 'bridge', BRIDGE, 'fail_mode']).trim()).toBe('secure');
  });

  it('a tag change is one small bundle, and every flow still equals engine.check', async () => {
    const back = modelDocs(ctx.topo.instanceNs).find(
      (d) => d.kind === 'Interface' && d.name === 'ops',
    )!;
    ctx.engine.apply([{ op: 'put', doc: back }], ctx.nextRevision());
    const before = flows(ctx);
    await ctx.sync();
    const ovsPath = ctx.ovsPaths.get('h1')!;
    expect(ctx.agents.get('h1')!.stats.deltaApplies).toBeGreaterThan(0);
    expect(ovsPath.lastWritten).toBeGreaterThan(0);
    expect(ovsPath.lastWritten).toBeLessThan(Math.max(before, flows(ctx)));
    // The verdicts after a tag change are the shared suite's; this is about the bundle.
  });

  it('on the wire: nft → OVS carries the GBP ID, OVS → nft none (ipcache on receipt)', async () => {
    const pkts = await onTheWire(ctx, async () => {
      // web (OVS) → app (nft) and back; app → web fails or not per policy, packets flow.
      await tcpConnects(ctx.topo.instanceNs('web'), RECORDS.app!.ip, 8080);
      await tcpConnects(ctx.topo.instanceNs('app'), RECORDS.web!.ip, 8080);
    });
    const h2State = ctx.engine.hostState('h2', ctx.current());
    const appId = h2State.locals.find((l) => l.name === 'app')!.identity;
    const fromOvs = pkts.filter((p) => p.innerSrc === RECORDS.web!.ip);
    const fromNft = pkts.filter((p) => p.innerSrc === RECORDS.app!.ip);
    expect(fromOvs.length).toBeGreaterThan(0);
    expect(fromNft.length).toBeGreaterThan(0);
    for (const p of fromOvs) expect(p).toMatchObject({ gbp: false, groupPolicyId: 0, vni: 30 });
    for (const p of fromNft) expect(p).toMatchObject({ gbp: true, groupPolicyId: appId, vni: 30 });
  });

  it('on the wire: a steered packet carries its class as GBP ID and as source MAC, both ways', async () => {
    const steer2 = steerDocs(ctx.topo.instanceNs).find((d) => d.name === 'steer2')!;
    ctx.engine.apply([{ op: 'put', doc: steer2 }], ctx.nextRevision());
    await ctx.setRoutes([routeTo('dst', 'fw'), routeTo('dst2', 'fw3')]);
    const ns = ctx.topo.instanceNs;
    const pkts = await onTheWire(ctx, async () => {
      // OVS (h1) → nft via (h2); nft (h2) → OVS via (h3).
      expect(await tcpConnects(ns('src'), STEER_RECORDS.dst.ip, STEERED, 1500)).toBe(true);
      expect(await tcpConnects(ns('src2'), STEER_RECORDS.dst2.ip, STEERED, 1500)).toBe(true);
    });
    const classOf = (via: string) => ctx.engine.steering().find((c) => c.via === via)!.class;
    const [h1, h2, h3] = ctx.topo.hosts;
    const leg = (src: string, dst: string, from: string, to: string) =>
      pkts.filter(
        (p) => p.innerSrc === src && p.innerDst === dst && p.outerSrc === from && p.outerDst === to,
      );
    const toFw = leg(STEER_RECORDS.src.ip, STEER_RECORDS.dst.ip, h1!.underlayIp, h2!.underlayIp);
    const toFw3 = leg(STEER_RECORDS.src2.ip, STEER_RECORDS.dst2.ip, h2!.underlayIp, h3!.underlayIp);
    expect(toFw.length).toBeGreaterThan(0);
    expect(toFw3.length).toBeGreaterThan(0);
    for (const p of toFw)
      expect(p).toMatchObject({
        gbp: true,
        groupPolicyId: classOf('fw'),
        innerEthSrc: steerMac(classOf('fw')),
      });
    for (const p of toFw3)
      expect(p).toMatchObject({
        gbp: true,
        groupPolicyId: classOf('fw3'),
        innerEthSrc: steerMac(classOf('fw3')),
      });
    ctx.engine.apply([{ op: 'delete', kind: 'Policy', name: 'steer2' }], ctx.nextRevision());
    await ctx.setRoutes([]);
  });

  it('a quarantine cuts a live connection through the bridge', async () => {
    const client = await steadyClient(ctx.topo.instanceNs('web'), RECORDS.app!.ip, 8080);
    const server = ctx.servers.get('app')!;
    try {
      const count = () => server.lines.filter((l) => l.startsWith('data 8080')).length;
      const before = count();
      await new Promise((r) => setTimeout(r, 400));
      expect(count()).toBeGreaterThan(before);
      const quarantined = modelDocs(ctx.topo.instanceNs, {
        web: { app: 'shop', tier: 'quarantined' },
      }).find((d) => d.kind === 'Interface' && d.name === 'web')!;
      ctx.engine.apply([{ op: 'put', doc: quarantined }], ctx.nextRevision());
      expect(
        ctx.engine.check({ src: 'web', dst: 'app', protocol: 'tcp', port: 8080 }).verdict,
      ).toBe('deny');
      await ctx.sync();
      await new Promise((r) => setTimeout(r, 300));
      const frozen = count();
      await new Promise((r) => setTimeout(r, 700));
      expect(count()).toBe(frozen);
      expect(ctx.agents.get('h1')!.stats.killedFlows).toBeGreaterThan(0);
    } finally {
      client.stop();
    }
    // Every verdict of the quarantined model is compared after the restart below.
  });

  it('an ovs-vswitchd restart empties the bridge; the agent notices and rewrites it', async () => {
    const n = flows(ctx);
    await ctx.ovs.get('h1')!.restartVswitchd();
    // The new ovs-vswitchd re-creates the bridge and its ports from OVSDB, no flows.
    let after: number | undefined;
    for (let i = 0; i < 200 && after === undefined; i++) {
      try {
        after = flows(ctx);
      } catch {
        await new Promise((r) => setTimeout(r, 50)); // its management socket is not up yet
      }
    }
    expect(after).toBe(0);
    const agent = ctx.agents.get('h1')!;
    // What runAgent's timer calls every verifyIntervalMs.
    expect(await agent.verify()).toBe(true);
    expect(agent.stats.reprograms).toBe(1);
    expect(flows(ctx)).toBe(n);
    expect(await agent.verify()).toBe(false);
    await compareAll(ctx.engine, ctx.topo);
  });

  it('fail-static: without the agent the bridge keeps its flows and its verdicts', async () => {
    const n = flows(ctx);
    ctx.agents.delete('h1');
    // A new agent on the same bridge adopts what is there until its first state.
    const h1 = ctx.topo.hosts[0]!;
    const fresh = new OvsDatapath({
      bridge: BRIDGE,
      underlayIp: h1.underlayIp,
      rundir: ctx.ovs.get('h1')!.rundir,
      exec: makeExec(h1.netns),
    });
    expect(await fresh.adopt()).toMatch(new RegExp(`${BRIDGE} \\(${n} flows\\)`));
    expect(flows(ctx)).toBe(n);
    await compareAll(ctx.engine, ctx.topo);
  });
}

datapathConformance('ovs', ovsOwn);
