/**
 * Random models on both PEP kinds at once: each seed's model
 * (test/support/random-model.ts: typed tags, partitions, priorities that tie, cidr
 * peers with exceptions, audit policies, IPv4 and IPv6 subnets on two VNIs) is
 * compiled by the real Engine, every record is attached to its own instance on h1, h2
 * or h3 — h1 and h3 run the nftables agent, h2 an Open vSwitch bridge (OvsDatapath,
 * its own ovsdb-server and ovs-vswitchd in h2's namespace) — the real Agents apply the
 * hosts' states, and random record-to-record flows — TCP, UDP and ICMP, each from a
 * chosen source address, between every pair of host kinds and within a host — must
 * get through exactly when `engine.check` says allow. Then random changes (retag,
 * readdress, policy and partition edits, settings) and the same comparison again.
 * After each change every probed flow is also among the flow records the hosts'
 * collectors took — nftables: conntrack events and NFLOG deny samples; OVS: the
 * bridge's conntrack dumps and metered packet-ins — each side its host enforces named
 * as `engine.check` names it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { makeExec } from '../../src/agent/exec.js';
import { FlowCollector } from '../../src/agent/flows/flow-collector.js';
import { OvsDatapath } from '../../src/agent/ovs/ovs-datapath.js';
import type { FlowRecord } from '../../src/model/flow.js';
import { Engine } from '../../src/engine/index.js';
import { oracleModelToDocuments, type OracleModel } from '../support/oracle/oracle-model.js';
import { planImport, readObjects, translate } from '../../src/k8s/index.js';
import type { Document } from '../../src/model/types.js';
import { formatIp, parseIp } from '../../src/model/net.js';
import { CLUSTER_SUBNET, randomCluster } from '../k8s/support/random-cluster.js';
import { randomChange, randomModel } from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';
import { startAgents } from './support/agents.js';
import { syncAgents } from './support/engine-states.js';
import { echoServer, probeFlows, type EchoServer } from './support/probes.js';
import { OVS_TOOLS, startOvs, type TestOvs } from './support/ovs.js';
import { buildTopology, type TestHost, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { flowSideOf, recordsOf } from './support/flow-sides.js';

/** nftables, OVS, nftables: every flow between two hosts crosses kinds or stays nft. */
const HOSTS = ['h1', 'h2', 'h3'];
const OVS_HOST = 'h2';
const BRIDGE = 'vnpbr';
/** Ports the flows use: edges of the random port specs (tcp/80, 1-1024, 8000-8099, udp/53 …). */
const PORTS = [22, 53, 80, 443, 1024, 1025, 8050, 8099, 8100];
const PROTOS = ['tcp', 'udp', 'icmp'] as const;
const SEEDS = [1, 3];
const FLOWS_PER_ROUND = 60;
const CHANGES_PER_SEED = 3;

interface KernelFlow {
  src: string;
  srcAddr: string;
  dst: string;
  dstAddr: string;
  proto: (typeof PROTOS)[number];
  port: number;
}

/**
 * Every record on its own instance (namespace); the records dealt to the hosts in a
 * random order, round robin, so that every host — the OVS one too — holds several.
 */
function placed(rng: Rng, model: OracleModel, topo: Topology): OracleModel {
  const m = structuredClone(model);
  const order = m.interfaces.map((_, i) => ({ i, key: rng.next() })).sort((a, b) => a.key - b.key);
  const host = new Map(order.map(({ i }, k) => [i, HOSTS[k % HOSTS.length]!]));
  m.instances = m.interfaces.map((r, i) => ({
    name: `vm-${r.name}`,
    host: host.get(i)!,
    netns: topo.instanceNs(r.name),
  }));
  m.interfaces = m.interfaces.map((r) => ({ ...r, instance: `vm-${r.name}` }));
  return m;
}

const query = (f: KernelFlow) => ({
  src: f.srcAddr,
  dst: f.dstAddr,
  protocol: f.proto,
  ...(f.proto === 'icmp' ? {} : { port: f.port }),
});

const canon = (ip: string): string => formatIp(parseIp(ip)!);
const family = (ip: string): 4 | 6 => parseIp(ip)!.family;

/** Random flows between two different attached records of one address family. */
function kernelFlows(rng: Rng, model: OracleModel, n: number): KernelFlow[] {
  const attached = model.interfaces.filter((r) => r.instance && r.ips.length > 0);
  const out: KernelFlow[] = [];
  for (let tries = 0; out.length < n && tries < n * 20; tries++) {
    const s = rng.pick(attached);
    const d = rng.pick(attached);
    if (s.name === d.name) continue;
    const srcAddr = canon(rng.pick(s.ips));
    const same = d.ips.filter((ip) => family(ip) === family(srcAddr));
    if (same.length === 0) continue;
    out.push({
      src: s.name,
      srcAddr,
      dst: d.name,
      dstAddr: canon(rng.pick(same)),
      proto: rng.pick(PROTOS),
      port: rng.pick(PORTS),
    });
  }
  return out;
}

describePrivileged(
  'random models: nftables and OVS verdicts equal engine.check (TCP, UDP, ICMP)',
  { tools: [...OVS_TOOLS, ['nft', '--version'], ['conntrack', '--version']] },
  () => {
    let topo: Topology;
    let ovs: TestOvs | undefined;
    const servers: EchoServer[] = [];

    beforeAll(() => {
      topo = buildTopology(HOSTS);
      ovs = startOvs(topo.hosts.find((h) => h.name === OVS_HOST)!.netns);
    });

    afterAll(() => {
      for (const s of servers) s.stop();
      ovs?.stop();
      topo?.destroy();
    });

    /** A fresh agent per seed; the OVS host's keeps the bridge (its first state replaces the flows). */
    const start = (agents: Map<string, Agent>): Promise<void> =>
      startAgents(topo, agents, (h: TestHost, log) =>
        h.name === OVS_HOST
          ? {
              datapath: new OvsDatapath({
                bridge: BRIDGE,
                underlayIp: h.underlayIp,
                rundir: ovs!.rundir,
                exec: makeExec(h.netns),
                log,
              }),
            }
          : {},
      );

    let checkedRecords = 0;

    /**
     * Flow collectors on every host, keeping what they would ship in `records`: the
     * nftables hosts' conntrack events and NFLOG samples, the OVS host's conntrack dumps
     * and packet-ins (docs/adr/0042-ovs-flows.md).
     */
    function collectFlows(agents: ReadonlyMap<string, Agent>, records: FlowRecord[]) {
      return topo.hosts.map((h) => {
        const bridge = agents.get(h.name)?.datapath;
        const c = new FlowCollector({
          ...(bridge instanceof OvsDatapath ? { source: bridge.flowSource({ pollMs: 100 }) } : {}),
          exec: makeExec(h.netns),
          inNamespace: ['ip', 'netns', 'exec', h.netns],
          state: () => agents.get(h.name)?.state,
          send: async (batch) => {
            records.push(...batch.records);
            return true;
          },
          flushMs: 50,
        });
        void c.start();
        return c;
      });
    }

    /**
     * Every probed flow is among the records: the source host (nftables or OVS) names
     * its egress side as check does and, when egress allowed, the destination host its
     * ingress side (one record for both within a host).
     */
    async function compareRecords(
      flows: KernelFlow[],
      engine: Engine,
      model: OracleModel,
      records: FlowRecord[],
    ): Promise<void> {
      const hostOf = (name: string) =>
        (model.instances ?? []).find((i) => i.name === `vm-${name}`)!.host;
      const wants = flows.map((f) => {
        const want = engine.check(query(f));
        const src = hostOf(f.src);
        const dst = hostOf(f.dst);
        return {
          f,
          egress: { host: src, side: flowSideOf(want.egress) },
          ingress:
            want.egress.verdict === 'allow'
              ? { host: dst, side: flowSideOf(want.ingress) }
              : undefined,
        };
      });
      const missing = () =>
        wants
          .filter(({ f, egress, ingress }) => {
            const r = recordsOf(records, f);
            const has = (host: string, dir: 'egress' | 'ingress') =>
              r.some((x) => x.host === host && x[dir]);
            return (
              (egress && !has(egress.host, 'egress')) || (ingress && !has(ingress.host, 'ingress'))
            );
          })
          .map((w) => w.f);
      for (const t0 = performance.now(); missing().length > 0 && performance.now() - t0 < 3000;)
        await new Promise((r) => setTimeout(r, 50));
      expect(missing()).toEqual([]);
      for (const { f, egress, ingress } of wants) {
        const r = recordsOf(records, f);
        if (egress)
          expect(r.filter((x) => x.host === egress.host).map((x) => x.egress)).toContainEqual(
            egress.side,
          );
        if (ingress)
          expect(r.filter((x) => x.host === ingress.host).map((x) => x.ingress)).toContainEqual(
            ingress.side,
          );
        if (egress || ingress) checkedRecords++;
      }
    }

    /** Every flow at once: one prober per source namespace. */
    async function probeAll(flows: KernelFlow[]): Promise<boolean[]> {
      const bySrc = new Map<string, number[]>();
      flows.forEach((f, i) => bySrc.set(f.src, [...(bySrc.get(f.src) ?? []), i]));
      const got: boolean[] = [];
      await Promise.all(
        [...bySrc].map(async ([src, at]) => {
          const ways = at.map((i) => ({
            ...flows[i]!,
            src: flows[i]!.srcAddr,
            dst: flows[i]!.dstAddr,
          }));
          const v = await probeFlows(topo.instanceNs(src), ways);
          at.forEach((i, k) => (got[i] = v[k]!));
        }),
      );
      return got;
    }

    async function compare(
      seed: number,
      step: number,
      engine: Engine,
      model: OracleModel,
      rng: Rng,
      records?: FlowRecord[],
    ): Promise<{
      allow: number;
      deny: number;
      v6: number;
      protos: Set<string>;
      kinds: Set<string>;
    }> {
      const flows = kernelFlows(rng, model, FLOWS_PER_ROUND);
      const got = await probeAll(flows);
      const line = (f: KernelFlow, v: string) =>
        `seed ${seed} step ${step}: ${f.src}(${f.srcAddr}) → ${f.dst}(${f.dstAddr}) ${f.proto}${f.proto === 'icmp' ? '' : `/${f.port}`} ${v}`;
      const want = flows.map((f) => line(f, engine.check(query(f)).verdict));
      expect(flows.map((f, i) => line(f, got[i] ? 'allow' : 'deny'))).toEqual(want);
      if (records) await compareRecords(flows, engine, model, records);
      const allow = want.filter((w) => w.endsWith('allow')).length;
      const v6 = flows.filter((f) => family(f.srcAddr) === 6).length;
      // Which kinds each flow crossed: source host → destination host (nft/ovs).
      const hostOf = new Map(
        (model.instances ?? []).map((i) => [i.name, i.host === OVS_HOST ? 'ovs' : 'nft']),
      );
      const kindOf = (name: string): string =>
        hostOf.get(model.interfaces.find((r) => r.name === name)?.instance ?? '') ?? '?';
      const kinds = new Set(flows.map((f) => `${kindOf(f.src)}→${kindOf(f.dst)} ${f.proto}`));
      return {
        allow,
        deny: want.length - allow,
        v6,
        protos: new Set(flows.map((f) => f.proto)),
        kinds,
      };
    }

    it('for every flow of random models and after random changes', async () => {
      const totals = {
        allow: 0,
        deny: 0,
        v6: 0,
        protos: new Set<string>(),
        kinds: new Set<string>(),
      };
      for (const seed of SEEDS) {
        const rng = makeRng(seed);
        let model = placed(rng, randomModel(rng, { records: 8, policies: 6 }), topo);
        const engine = new Engine();
        engine.load(oracleModelToDocuments(model), 0);
        const agents = new Map<string, Agent>();
        await start(agents);
        let revision = 1;
        await syncAgents(engine, topo, agents, revision);
        const records: FlowRecord[] = [];
        const collectors = collectFlows(agents, records);
        const started = model.interfaces.map((r) => echoServer(topo.instanceNs(r.name), PORTS));
        servers.push(...(await Promise.all(started)));
        for (let step = 0; step <= CHANGES_PER_SEED; step++) {
          if (step > 0) {
            const next = randomChange(rng, model);
            try {
              engine.apply([next.change], revision);
            } catch {
              continue; // a change the engine refuses is not the subject here
            }
            model = next.model;
            revision++;
            await syncAgents(engine, topo, agents, revision);
          }
          // The collectors' readers start during the first probes: records from step 1 on.
          records.length = 0;
          const n = await compare(seed, step, engine, model, rng, step > 0 ? records : undefined);
          totals.allow += n.allow;
          totals.deny += n.deny;
          totals.v6 += n.v6;
          for (const p of n.protos) totals.protos.add(p);
          for (const k of n.kinds) totals.kinds.add(k);
        }
        for (const s of servers.splice(0)) s.stop();
        await Promise.all(collectors.map((c) => c.stop()));
        for (const a of agents.values()) await a.removePolicy();
      }
      // Both verdicts occur, so the comparison can fail either way.
      expect(totals.allow).toBeGreaterThan(10);
      // Flows after each change were among the hosts' flow records (OVS's too).
      console.log(`${checkedRecords} probed flows found among the flow records`);
      expect(checkedRecords).toBeGreaterThan(50);
      expect(totals.deny).toBeGreaterThan(10);
      // IPv6 flows and every protocol were among them.
      expect(totals.v6).toBeGreaterThan(5);
      expect([...totals.protos].sort()).toEqual(['icmp', 'tcp', 'udp']);
      // Every protocol between every pair of kinds, both ways, and within the OVS host.
      const pairs = ['nft→nft', 'nft→ovs', 'ovs→nft', 'ovs→ovs'];
      expect([...totals.kinds].sort()).toEqual(
        pairs.flatMap((p) => PROTOS.map((proto) => `${p} ${proto}`)).sort(),
      );
    }, 600_000);

    /**
     * The imported-NetworkPolicy mode: random Kubernetes clusters go through the
     * importer (readObjects → translate), every pod record on its own instance, and the
     * kernel must agree with check; then a re-import with changed labels (planned
     * like the route: puts plus prunes) and the same comparison again.
     */
    it('for every flow of random imported NetworkPolicies and after a re-import', async () => {
      const totals = { allow: 0, deny: 0 };
      const alias = (name: string): string => name.replaceAll('.', '-');
      for (const seed of [11, 12]) {
        const rng = makeRng(seed);
        const imported = (relabel: boolean): Document[] =>
          translate(readObjects(randomCluster(rng, 6, relabel)), {
            source: 'k8s',
            subnet: CLUSTER_SUBNET,
          }).documents;
        const first = imported(false);
        const records = first.filter((d) => d.kind === 'Interface');
        const instances: Document[] = records.map((r) => ({
          kind: 'Instance',
          name: `vm-${r.name}`,
          host: rng.pick(HOSTS),
          // Namespace names without dots (the record names have them).
          netns: topo.instanceNs(alias(r.name)),
        }));
        const attach = (docs: Document[]): Document[] =>
          docs.map((d) => (d.kind === 'Interface' ? { ...d, instance: `vm-${d.name}` } : d));
        const engine = new Engine();
        engine.load([{ kind: 'Subnet', ...CLUSTER_SUBNET }, ...instances, ...attach(first)], 0);
        const agents = new Map<string, Agent>();
        await start(agents);
        let revision = 1;
        await syncAgents(engine, topo, agents, revision);
        const started = records.map((r) => echoServer(topo.instanceNs(alias(r.name)), PORTS));
        servers.push(...(await Promise.all(started)));
        // compare() probes from topo.instanceNs(name) and checks by address: name the aliases.
        const model = {
          interfaces: attach(records).map((r) => ({ ...r, name: alias(r.name) })),
        } as unknown as OracleModel;
        for (let step = 0; step <= 1; step++) {
          if (step === 1) {
            const existing = engine.allDocuments() as unknown as Document[];
            const plan = planImport(existing, attach(imported(true)), 'k8s');
            engine.apply(
              [
                ...plan.puts.map((doc) => ({ op: 'put' as const, doc })),
                ...plan.deletes.map((d) => ({ op: 'delete' as const, ...d })),
              ],
              revision,
            );
            revision++;
            await syncAgents(engine, topo, agents, revision);
          }
          const n = await compare(seed, step, engine, model, rng);
          totals.allow += n.allow;
          totals.deny += n.deny;
        }
        for (const s of servers.splice(0)) s.stop();
        for (const a of agents.values()) await a.removePolicy();
      }
      expect(totals.allow).toBeGreaterThan(5);
      expect(totals.deny).toBeGreaterThan(5);
    }, 600_000);
  },
);
