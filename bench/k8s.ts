/**
 * `npm run bench -- k8s`: import a cluster-sized manifest (10,000 pods in 100
 * namespaces, 1,000 NetworkPolicies with pod, namespace, ipBlock peers and numeric
 * and named ports) — time to read and translate it and to compile the result — and
 * verdicts/s on the imported model against native vnp documents of the same size
 * (bench/generate.ts: 10,000 records, 1,000 policies), measured in the same run.
 */
import { readObjects, translate } from '../src/k8s/index.js';
import { Engine } from '../src/engine/index.js';
import type { Document } from '../src/model/types.js';
import { generateModel, prng, type BenchFlow } from './generate.js';
import { measure } from './measure.js';
import type { Suite } from './run.js';
import { formatMs, formatRate, formatRatio, formatTable } from './table.js';

type Obj = Record<string, unknown>;
const SUBNET = { name: 'pods', cidr: '10.0.0.0/8' };

interface ClusterSize {
  pods: number;
  policies: number;
  namespaces: number;
  apps: number;
}

/** The i-th pod's address: 10.0.0.1 upwards, inside 10.0.0.0/8. */
const podIp = (i: number): string =>
  `10.${((i + 1) >> 16) & 255}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`;

/**
 * A deterministic cluster: pods spread over namespaces and apps, each serving `http`
 * on 8080 or 8081 (so named ports resolve to two numbers); every policy selects one
 * app in one namespace and allows in from one or two other apps, some by namespace
 * label, some on the named port, some from an ipBlock, and a third also restrict egress.
 */
export function generateCluster(size: ClusterSize, seed = 7): Obj[] {
  const rnd = prng(seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const out: Obj[] = [];
  for (let n = 0; n < size.namespaces; n++) {
    out.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `ns${n}`, labels: { team: `t${n % 10}` } },
    });
  }
  for (let i = 0; i < size.pods; i++) {
    const app = `a${i % size.apps}`;
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `p${i}`,
        namespace: `ns${i % size.namespaces}`,
        labels: { app, tier: `t${i % 3}` },
      },
      spec: {
        containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 + (i % 2) }] }],
      },
      status: { podIP: podIp(i) },
    });
  }
  for (let k = 0; k < size.policies; k++) {
    const from: Obj[] = [{ podSelector: { matchLabels: { app: `a${pick(size.apps)}` } } }];
    if (k % 2 === 0)
      from.push({
        namespaceSelector: { matchLabels: { team: `t${pick(10)}` } },
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['t0', 't1'] }] },
      });
    if (k % 5 === 0) from.push({ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } });
    const ports =
      k % 3 === 0 ? [{ port: 'http' }] : [{ port: 80 + (k % 4) }, { port: 9000, endPort: 9100 }];
    const spec: Obj = {
      podSelector: { matchLabels: { app: `a${k % size.apps}` } },
      ingress: [{ from, ports }],
    };
    if (k % 3 === 1) {
      spec.policyTypes = ['Ingress', 'Egress'];
      spec.egress = [
        {
          to: [
            { namespaceSelector: {}, podSelector: { matchLabels: { app: `a${pick(size.apps)}` } } },
          ],
          ports: [{ port: 'http' }, { port: 53, protocol: 'UDP' }],
        },
      ];
    }
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `np${k}`, namespace: `ns${k % size.namespaces}` },
      spec,
    });
  }
  return out;
}

export function importCluster(objects: Obj[]): {
  documents: Document[];
  translateMs: number;
  compileMs: number;
  engine: Engine;
} {
  const t0 = performance.now();
  const { documents } = translate(readObjects(objects), { source: 'k8s', subnet: SUBNET });
  const t1 = performance.now();
  const engine = new Engine({ identityGraceMs: 30_000 });
  engine.load([{ kind: 'Subnet', ...SUBNET }, ...documents] as never, 0);
  const t2 = performance.now();
  return { documents, translateMs: t1 - t0, compileMs: t2 - t1, engine };
}

export function podFlows(documents: Document[], n: number): BenchFlow[] {
  const names = documents.filter((d) => d.kind === 'Interface').map((d) => d.name);
  const rnd = prng(3);
  const ports = [80, 81, 8080, 8081, 9050, 443];
  return Array.from({ length: n }, () => ({
    src: names[Math.floor(rnd() * names.length)]!,
    dst: names[Math.floor(rnd() * names.length)]!,
    protocol: 'tcp' as const,
    port: ports[Math.floor(rnd() * ports.length)]!,
  }));
}

export const k8sSuite: Suite = {
  async run({ quick, log }) {
    const size: ClusterSize = quick
      ? { pods: 1000, policies: 100, namespaces: 10, apps: 50 }
      : { pods: 10_000, policies: 1000, namespaces: 100, apps: 500 };
    const objects = generateCluster(size);
    log(
      `k8s: ${size.pods} pods, ${size.policies} NetworkPolicies in ${size.namespaces} namespaces`,
    );
    // Two imports: the first warms the JIT; the second is the one reported.
    importCluster(objects);
    const imp = importCluster(objects);
    const vnpPolicies = imp.documents.filter((d) => d.kind === 'Policy').length;
    log(
      `k8s: translated in ${formatMs(imp.translateMs)}, compiled in ${formatMs(imp.compileMs)} (${vnpPolicies} vnp policies)`,
    );
    const flows = podFlows(imp.documents, 4096);
    let disagreements = 0;
    for (const f of flows.slice(0, 1000)) {
      if (
        (imp.engine.check(f).verdict === 'allow') !==
        imp.engine.verdict(f.src, f.dst, f.protocol, f.port)
      )
        disagreements++;
    }
    const box = quick ? { warmupMs: 200, runMs: 600 } : { warmupMs: 500, runMs: 2500 };
    const imported = measure(
      (f) => imp.engine.verdict(f.src, f.dst, f.protocol, f.port),
      flows,
      box,
    );
    const model = generateModel({ policies: size.policies, records: size.pods });
    const native = new Engine({ identityGraceMs: 30_000 });
    native.load(model.documents as never, 0);
    const nat = measure((f) => native.verdict(f.src, f.dst, f.protocol, f.port), model.flows, box);
    const importMs = imp.translateMs + imp.compileMs;
    const ratio = imported.opsPerSec / nat.opsPerSec;
    const report = [
      formatTable(
        ['what', 'measured', 'target'],
        [
          ['read + translate the manifest', formatMs(imp.translateMs), ''],
          [
            'import: translate + compile',
            formatMs(importMs),
            importMs <= 3000 ? '≤ 3 s: met' : '≤ 3 s: NOT met',
          ],
          ['verdicts/s, imported (engine.verdict)', formatRate(imported.opsPerSec), ''],
          ['verdicts/s, native vnp documents', formatRate(nat.opsPerSec), ''],
          [
            'imported ÷ native',
            formatRatio(ratio),
            ratio >= 0.9 ? 'as fast: met' : 'as fast: NOT met',
          ],
        ],
      ),
      `check and the fast path disagreed on ${disagreements} of 1,000 imported flows`,
    ].join('\n');
    return {
      json: {
        size,
        vnpPolicies,
        translateMs: imp.translateMs,
        compileMs: imp.compileMs,
        importMs,
        imported,
        native: nat,
        ratio,
        disagreements,
      },
      report,
      ok: disagreements === 0,
    };
  },
};
