/**
 * Deterministic generator of the benchmark model: "tag-to-tag rules on ports".
 *
 * Shape (the same for every policy count, so only the count varies):
 * - one app per policy: policy `p<X>` applies to `app == "a<X>"`; app X listens on
 *   one TCP port and is called by a few other apps (its callers);
 * - policy X has an ingress `allow` from each caller (`app == "a<Y>"`, `tcp/<port X>`)
 *   and an egress `allow` to each of its callees (`app == "a<Z>"`, `tcp/<port Z>`);
 *   every tenth app also denies ingress from `env == "dev"` on its port;
 * - records carry `app`, `env` and `tier` (tier is read by no selector, so it never
 *   splits identities), are attached to one instance each, and live in one /8;
 * - every side defaults to deny: `defaults.unpartitioned: deny` and one partition per
 *   env with `intra: deny` (zero trust: only rules open traffic).
 *
 * No priority conflicts: each policy applies to its own app only, and a deny sits in
 * the same policy (same priority) as the allows it overlaps, where §2 says deny wins.
 * So Cedar's forbid-overrides-permit and Casbin's deny-override agree with §2.
 *
 * Flows are a fixed pool, mostly connected pairs on the right port (allowed, or
 * denied by a dev-deny), plus misses: the right pair on a wrong port, and pairs of
 * apps that never talk.
 */
import type { Document, Interface, Policy, Rule } from '../src/model/types.js';

/** One flow to judge, by record names (the same object is handed to every judge). */
export interface BenchFlow {
  src: string;
  dst: string;
  protocol: 'tcp';
  port: number;
}

/** What to generate. */
export interface BenchModelOptions {
  /** Number of policies (= number of apps). */
  policies: number;
  /** Number of interface records (at least `policies`). */
  records: number;
  /** Size of the flow pool. Default 4096. */
  flows?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Callees per app. Default 3. */
  callees?: number;
}

/** The generated model. */
export interface BenchModel {
  /** Everything, in an order a loader can take (settings, subnet, instances, records, partitions, policies). */
  documents: Document[];
  records: Interface[];
  policies: Policy[];
  flows: BenchFlow[];
  /** What the generator believes each flow's verdict is (allow = true), for sanity checks. */
  expected: boolean[];
}

const ENVS = ['prod', 'staging', 'dev'] as const;
const TIERS = ['web', 'api', 'db'] as const;
const PORTS = [80, 443, 3306, 5432, 6379, 8080, 8443, 9092, 11211, 27017] as const;

/**
 * A small, fast, seedable PRNG (mulberry32): same seed, same sequence on every machine.
 *
 * @example
 *   const rnd = prng(1); rnd(); // 0.6270739405881613
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
function pick(rnd: () => number, n: number): number {
  return Math.floor(rnd() * n);
}

/** The i-th address of 10.0.0.0/8, starting at 10.0.0.1. */
function addressOf(i: number): string {
  const n = i + 1;
  return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

interface AppGraph {
  port: number[];
  callees: number[][];
  callers: number[][];
  records: string[][];
}

function buildGraph(rnd: () => number, apps: number, calleeCount: number): AppGraph {
  const port = Array.from({ length: apps }, () => PORTS[pick(rnd, PORTS.length)]!);
  const k = Math.min(calleeCount, apps - 1);
  const callees: number[][] = [];
  const callers: number[][] = Array.from({ length: apps }, () => []);
  for (let y = 0; y < apps; y++) {
    const set = new Set<number>();
    while (set.size < k) {
      const x = pick(rnd, apps);
      if (x !== y) set.add(x);
    }
    const list = [...set].sort((a, b) => a - b);
    callees.push(list);
    for (const x of list) callers[x]!.push(y);
  }
  return { port, callees, callers, records: Array.from({ length: apps }, () => []) };
}

/** Every tenth app denies its port to dev callers. */
function deniesDev(app: number): boolean {
  return app % 10 === 3;
}

function policyOf(x: number, g: AppGraph): Policy {
  const ingress: Rule[] = g.callers[x]!.map((y) => ({
    action: 'allow',
    from: { selector: `app == "a${y}"` },
    ports: [`tcp/${g.port[x]}`],
  }));
  if (deniesDev(x)) {
    ingress.push({
      action: 'deny',
      from: { selector: 'env == "dev"' },
      ports: [`tcp/${g.port[x]}`],
    });
  }
  const egress: Rule[] = g.callees[x]!.map((z) => ({
    action: 'allow',
    to: { selector: `app == "a${z}"` },
    ports: [`tcp/${g.port[z]}`],
  }));
  return {
    name: `p${x}`,
    priority: 100 + (x % 50),
    appliesTo: `app == "a${x}"`,
    ingress,
    egress,
    routes: [],
    mode: 'enforce',
  };
}

function recordsOf(rnd: () => number, count: number, apps: number, g: AppGraph): Interface[] {
  const out: Interface[] = [];
  for (let i = 0; i < count; i++) {
    const app = i % apps;
    const name = `r${i}`;
    g.records[app]!.push(name);
    out.push({
      name,
      subnet: 'bench',
      ips: [addressOf(i)],
      tags: {
        app: `a${app}`,
        env: ENVS[pick(rnd, ENVS.length)]!,
        tier: TIERS[app % TIERS.length]!,
      },
      instance: `i${i}`,
    });
  }
  return out;
}

interface FlowCtx {
  rnd: () => number;
  g: AppGraph;
  apps: number;
  envOf: Map<string, string>;
}

function recordOfApp(c: FlowCtx, app: number): string {
  const list = c.g.records[app]!;
  return list[pick(c.rnd, list.length)]!;
}

/** One flow and its expected verdict. */
function flowOf(c: FlowCtx): [BenchFlow, boolean] {
  const roll = c.rnd();
  const y = pick(c.rnd, c.apps);
  const callees = c.g.callees[y]!;
  if (roll < 0.9 && callees.length > 0) {
    const x = callees[pick(c.rnd, callees.length)]!;
    const src = recordOfApp(c, y);
    const dst = recordOfApp(c, x);
    if (roll < 0.8) {
      const allowed = !(deniesDev(x) && c.envOf.get(src) === 'dev');
      return [{ src, dst, protocol: 'tcp', port: c.g.port[x]! }, allowed];
    }
    // A miss: the right pair on a port nobody opened.
    return [{ src, dst, protocol: 'tcp', port: 1 + pick(c.rnd, 79) }, false];
  }
  // A pair that may never talk (or talks by chance: then it is allowed).
  let x = pick(c.rnd, c.apps);
  if (x === y) x = (x + 1) % c.apps;
  const src = recordOfApp(c, y);
  const flow: BenchFlow = { src, dst: recordOfApp(c, x), protocol: 'tcp', port: c.g.port[x]! };
  return [flow, callees.includes(x) && !(deniesDev(x) && c.envOf.get(src) === 'dev')];
}

function settingsAndPartitions(): Document[] {
  return [
    {
      kind: 'Settings',
      name: 'default',
      defaults: { unpartitioned: 'deny', crossPartition: 'deny' },
    },
    ...ENVS.map((env): Document => ({
      kind: 'Partition',
      name: `env-${env}`,
      selector: `env == "${env}"`,
      intra: 'deny',
    })),
  ];
}

/**
 * Generates the model and the flow pool. Same options, same output.
 *
 * @example
 *   const m = generateModel({ policies: 10, records: 100 });
 *   m.policies.length // 10
 *   m.flows[0] // { src: 'r57', dst: 'r14', protocol: 'tcp', port: 443 }
 */
export function generateModel(opts: BenchModelOptions): BenchModel {
  const apps = opts.policies;
  if (apps < 2 || opts.records < apps) {
    throw new Error(
      `generateModel: need policies >= 2 and records >= policies, got ${apps}/${opts.records}`,
    );
  }
  const rnd = prng(opts.seed ?? 1);
  const g = buildGraph(rnd, apps, opts.callees ?? 3);
  const records = recordsOf(rnd, opts.records, apps, g);
  const policies = Array.from({ length: apps }, (_, x) => policyOf(x, g));
  const envOf = new Map(records.map((r) => [r.name, r.tags['env'] as string]));
  const ctx: FlowCtx = { rnd, g, apps, envOf };
  const flows: BenchFlow[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < (opts.flows ?? 4096); i++) {
    const [f, ok] = flowOf(ctx);
    flows.push(f);
    expected.push(ok);
  }
  const hosts = Math.max(1, Math.floor(opts.records / 100));
  const documents: Document[] = [
    ...settingsAndPartitions().slice(0, 1),
    { kind: 'Subnet', name: 'bench', cidr: '10.0.0.0/8', vni: 100 },
    ...records.map((r, i): Document => ({
      kind: 'Instance',
      name: `i${i}`,
      host: `h${i % hosts}`,
    })),
    ...records.map((r): Document => ({ kind: 'Interface', ...r })),
    ...settingsAndPartitions().slice(1),
    ...policies.map((p): Document => ({ kind: 'Policy', ...p })),
  ];
  return { documents, records, policies, flows, expected };
}
