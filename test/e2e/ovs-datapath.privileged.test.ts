/**
 * The second PEP kind on one underlay with the first: h1 is an Open vSwitch bridge
 * (OvsDatapath, its own ovsdb-server and ovs-vswitchd in h1's namespace), h2 the
 * nftables agent. The engine-driven conformance (every TCP flow on every port and some
 * ICMP, both directions and on the OVS host itself, equal to `engine.check`) runs on
 * this mixed topology — the same scenario the nft-only engine-datapath test runs —
 * before and after a tag change; then the wire (GBP IDs), a quarantine cutting a live
 * connection on the bridge, one-entry changes by bundle, the program rewritten after
 * ovs-vswitchd is killed and restarted, and fail-static.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { makeExec } from '../../src/agent/exec.js';
import { OvsDatapath } from '../../src/agent/ovs/ovs-datapath.js';
import { Engine } from '../../src/engine/index.js';
import { compareAll } from './support/conformance.js';
import { describePrivileged } from './support/describe-privileged.js';
import { modelDocs, PORTS, RECORDS } from './support/engine-model.js';
import { syncAgents } from './support/engine-states.js';
import { decodeVxlanPcap } from './support/gbp.js';
import { OVS_TOOLS, startOvs, type TestOvs } from './support/ovs.js';
import { buildTopology, sh, type Topology } from './support/topology.js';
import { capture, steadyClient, tcpConnects, tcpServer, type Proc } from './support/traffic.js';

const BRIDGE = 'vnpbr';

describePrivileged(
  'OVS and nftables PEPs on one underlay',
  { tools: [...OVS_TOOLS, ['nft', '--version'], ['tcpdump', '--version']] },
  () => {
    let topo: Topology;
    let ovs: TestOvs | undefined;
    let ovsPath: OvsDatapath;
    const engine = new Engine();
    const agents = new Map<string, Agent>();
    const servers = new Map<string, Proc>();
    let revision = 1;

    const sync = (): Promise<void> => syncAgents(engine, topo, agents, revision);
    const flows = () =>
      sh([
        'ovs-ofctl',
        '-O',
        'OpenFlow15',
        'dump-flows',
        `unix:${ovs!.rundir}/${BRIDGE}.mgmt`,
        '--no-stats',
      ])
        .split('\n')
        .filter((l) => l.includes('actions=')).length;

    beforeAll(async () => {
      topo = buildTopology(['h1', 'h2']);
      const h1 = topo.hosts[0]!;
      ovs = startOvs(h1.netns);
      ovsPath = new OvsDatapath({
        bridge: BRIDGE,
        underlayIp: h1.underlayIp,
        rundir: ovs.rundir,
        exec: makeExec(h1.netns),
      });
      agents.set('h1', new Agent({ host: 'h1', underlayIp: h1.underlayIp, datapath: ovsPath }));
      const h2 = topo.hosts[1]!;
      agents.set(
        'h2',
        new Agent({ host: 'h2', underlayIp: h2.underlayIp, exec: makeExec(h2.netns) }),
      );
      for (const a of agents.values()) await a.start();
      engine.load(modelDocs(topo.instanceNs), 0);
      await sync();
      for (const [name, r] of Object.entries(RECORDS))
        servers.set(name, await tcpServer(topo.instanceNs(name), r.ip, PORTS));
    }, 60_000);

    afterAll(() => {
      for (const s of servers.values()) s.stop();
      ovs?.stop();
      topo?.destroy();
    });

    it('the OVS agent reports its kind, and the bridge is secure', () => {
      expect(agents.get('h1')!.datapath.kind).toBe('ovs');
      expect(agents.get('h2')!.datapath.kind).toBe('nftables');
      const mode = sh([
        'ovs-vsctl',
        `--db=unix:${ovs!.rundir}/db.sock`,
        'get',
        'bridge',
        BRIDGE,
        'fail_mode',
      ]);
      expect(mode.trim()).toBe('secure');
    });

    it('every flow of the model equals engine.check, across kinds and on the OVS host', async () => {
      await compareAll(engine, topo);
    });

    it('a tag change is one small bundle, and every flow still equals engine.check', async () => {
      const retagged = modelDocs(topo.instanceNs, { ops: { app: 'shop', tier: 'web' } }).find(
        (d) => d.kind === 'Interface' && d.name === 'ops',
      )!;
      engine.apply([{ op: 'put', doc: retagged }], 1);
      revision++;
      const before = flows();
      await sync();
      expect(agents.get('h1')!.stats.deltaApplies).toBeGreaterThan(0);
      expect(ovsPath.lastWritten).toBeGreaterThan(0);
      expect(ovsPath.lastWritten).toBeLessThan(Math.max(before, flows()));
      await compareAll(engine, topo);
    });

    it('on the wire: nft → OVS carries the GBP ID, OVS → nft none (ipcache on receipt)', async () => {
      const file = join(tmpdir(), `${topo.prefix}-ovs-gbp.pcap`);
      const cap = await capture(topo.underlayNs, 'br0', file, 'udp port 4789');
      try {
        // web (OVS) → app (nft) and back; app → web fails or not per policy, packets flow.
        await tcpConnects(topo.instanceNs('web'), RECORDS.app!.ip, 8080);
        await tcpConnects(topo.instanceNs('app'), RECORDS.web!.ip, 8080);
      } finally {
        await cap.stop();
      }
      const pkts = decodeVxlanPcap(readFileSync(file));
      rmSync(file, { force: true });
      const h2State = engine.hostState('h2', revision);
      const appId = h2State.locals.find((l) => l.name === 'app')!.identity;
      const fromOvs = pkts.filter((p) => p.innerSrc === RECORDS.web!.ip);
      const fromNft = pkts.filter((p) => p.innerSrc === RECORDS.app!.ip);
      expect(fromOvs.length).toBeGreaterThan(0);
      expect(fromNft.length).toBeGreaterThan(0);
      for (const p of fromOvs) expect(p).toMatchObject({ gbp: false, groupPolicyId: 0, vni: 30 });
      for (const p of fromNft)
        expect(p).toMatchObject({ gbp: true, groupPolicyId: appId, vni: 30 });
    });

    it('a quarantine cuts a live connection through the bridge', async () => {
      const client = await steadyClient(topo.instanceNs('web'), RECORDS.app!.ip, 8080);
      const server = servers.get('app')!;
      try {
        const count = () => server.lines.filter((l) => l.startsWith('data 8080')).length;
        const before = count();
        await new Promise((r) => setTimeout(r, 400));
        expect(count()).toBeGreaterThan(before);
        const quarantined = modelDocs(topo.instanceNs, {
          web: { app: 'shop', tier: 'quarantined' },
        }).find((d) => d.kind === 'Interface' && d.name === 'web')!;
        engine.apply([{ op: 'put', doc: quarantined }], 2);
        revision++;
        expect(engine.check({ src: 'web', dst: 'app', protocol: 'tcp', port: 8080 }).verdict).toBe(
          'deny',
        );
        await sync();
        await new Promise((r) => setTimeout(r, 300));
        const frozen = count();
        await new Promise((r) => setTimeout(r, 700));
        expect(count()).toBe(frozen);
        expect(agents.get('h1')!.stats.killedFlows).toBeGreaterThan(0);
      } finally {
        client.stop();
      }
      await compareAll(engine, topo);
    });

    it('an ovs-vswitchd restart empties the bridge; the agent notices and rewrites it', async () => {
      const n = flows();
      await ovs!.restartVswitchd();
      // The new ovs-vswitchd re-creates the bridge and its ports from OVSDB, no flows.
      let after: number | undefined;
      for (let i = 0; i < 200 && after === undefined; i++) {
        try {
          after = flows();
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // its management socket is not up yet
        }
      }
      expect(after).toBe(0);
      const agent = agents.get('h1')!;
      // What runAgent's timer calls every verifyIntervalMs.
      expect(await agent.verify()).toBe(true);
      expect(agent.stats.reprograms).toBe(1);
      expect(flows()).toBe(n);
      expect(await agent.verify()).toBe(false);
      await compareAll(engine, topo);
    });

    it('fail-static: without the agent the bridge keeps its flows and its verdicts', async () => {
      const n = flows();
      agents.delete('h1');
      // A new agent on the same bridge adopts what is there until its first state.
      const fresh = new OvsDatapath({
        bridge: BRIDGE,
        underlayIp: topo.hosts[0]!.underlayIp,
        rundir: ovs!.rundir,
        exec: makeExec(topo.hosts[0]!.netns),
      });
      expect(await fresh.adopt()).toMatch(new RegExp(`${BRIDGE} \\(${n} flows\\)`));
      expect(flows()).toBe(n);
      await compareAll(engine, topo);
    });
  },
);
