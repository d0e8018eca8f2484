/**
 * Random models on a real kernel: each seed's model (test/support/random-model.ts:
 * typed tags, partitions, priorities that tie, cidr peers with exceptions, audit
 * policies, IPv4 and IPv6 subnets on two VNIs) is compiled by the real Engine, every
 * record is attached to its own instance on h1 or h2, the real Agents apply the
 * hosts' states, and random record-to-record flows — TCP, UDP and ICMP, each from a
 * chosen source address — must get through exactly when `engine.check` says allow.
 * Then random changes (retag, readdress, policy and partition edits, settings) and
 * the same comparison again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
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
import { echoServer, probe, type EchoServer } from './support/probes.js';
import { buildTopology, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';

const HOSTS = ['h1', 'h2'];
/** Ports the flows use: edges of the random port specs (tcp/80, 1-1024, 8000-8099, udp/53 …). */
const PORTS = [22, 53, 80, 443, 1024, 1025, 8050, 8099, 8100];
const PROTOS = ['tcp', 'udp', 'icmp'] as const;
const SEEDS = [1, 2, 3];
const FLOWS_PER_ROUND = 36;
const CHANGES_PER_SEED = 2;

interface KernelFlow {
  src: string;
  srcAddr: string;
  dst: string;
  dstAddr: string;
  proto: (typeof PROTOS)[number];
  port: number;
}

/** Every record on its own instance (namespace) on a random host. */
function placed(rng: Rng, model: OracleModel, topo: Topology): OracleModel {
  const m = structuredClone(model);
  m.instances = m.interfaces.map((r) => ({
    name: `vm-${r.name}`,
    host: rng.pick(HOSTS),
    netns: topo.instanceNs(r.name),
  }));
  m.interfaces = m.interfaces.map((r) => ({ ...r, instance: `vm-${r.name}` }));
  return m;
}

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

describePrivileged('random models: kernel verdicts equal engine.check (TCP, UDP, ICMP)', {}, () => {
  let topo: Topology;
  const servers: EchoServer[] = [];

  beforeAll(() => {
    topo = buildTopology(HOSTS);
  });

  afterAll(() => {
    for (const s of servers) s.stop();
    topo?.destroy();
  });

  async function compare(
    seed: number,
    step: number,
    engine: Engine,
    model: OracleModel,
    rng: Rng,
  ): Promise<{ allow: number; deny: number; v6: number; protos: Set<string> }> {
    const flows = kernelFlows(rng, model, FLOWS_PER_ROUND);
    const got = await Promise.all(
      flows.map((f) => probe(topo.instanceNs(f.src), f.proto, f.srcAddr, f.dstAddr, f.port)),
    );
    const line = (f: KernelFlow, v: string) =>
      `seed ${seed} step ${step}: ${f.src}(${f.srcAddr}) → ${f.dst}(${f.dstAddr}) ${f.proto}${f.proto === 'icmp' ? '' : `/${f.port}`} ${v}`;
    const want = flows.map((f) =>
      line(
        f,
        engine.check({
          src: f.srcAddr,
          dst: f.dstAddr,
          protocol: f.proto,
          ...(f.proto === 'icmp' ? {} : { port: f.port }),
        }).verdict,
      ),
    );
    expect(flows.map((f, i) => line(f, got[i] ? 'allow' : 'deny'))).toEqual(want);
    const allow = want.filter((w) => w.endsWith('allow')).length;
    const v6 = flows.filter((f) => family(f.srcAddr) === 6).length;
    return { allow, deny: want.length - allow, v6, protos: new Set(flows.map((f) => f.proto)) };
  }

  it('for every flow of random models and after random changes', async () => {
    const totals = { allow: 0, deny: 0, v6: 0, protos: new Set<string>() };
    for (const seed of SEEDS) {
      const rng = makeRng(seed);
      let model = placed(rng, randomModel(rng, { records: 6, policies: 6 }), topo);
      const engine = new Engine();
      engine.load(oracleModelToDocuments(model), 0);
      const agents = new Map<string, Agent>();
      await startAgents(topo, agents);
      let revision = 1;
      await syncAgents(engine, topo, agents, revision);
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
        const n = await compare(seed, step, engine, model, rng);
        totals.allow += n.allow;
        totals.deny += n.deny;
        totals.v6 += n.v6;
        for (const p of n.protos) totals.protos.add(p);
      }
      for (const s of servers.splice(0)) s.stop();
      for (const a of agents.values()) await a.removePolicy();
    }
    // Both verdicts occur, so the comparison can fail either way.
    expect(totals.allow).toBeGreaterThan(10);
    expect(totals.deny).toBeGreaterThan(10);
    // IPv6 flows and every protocol were among them.
    expect(totals.v6).toBeGreaterThan(5);
    expect([...totals.protos].sort()).toEqual(['icmp', 'tcp', 'udp']);
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
      await startAgents(topo, agents);
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
});
