/**
 * Random small Kubernetes clusters for the privileged kernel test: two namespaces,
 * a few pods with random labels and named ports, and random NetworkPolicies using
 * every construct (pod/namespace/combined/ipBlock peers, numeric, range and named
 * ports, policyTypes given or defaulted, empty rule lists).
 */
import type { Rng } from '../../support/rng.js';

type Obj = Record<string, unknown>;
export const CLUSTER_SUBNET = { name: 'pods', cidr: '10.1.0.0/24', vni: 101 } as const;

function selector(rng: Rng, keys: Record<string, string[]>): Obj {
  const key = rng.pick(Object.keys(keys));
  const values = keys[key]!;
  switch (rng.int(0, 5 - 1)) {
    case 0:
      return {};
    case 1:
      return { matchExpressions: [{ key, operator: 'NotIn', values: [rng.pick(values)] }] };
    case 2:
      return { matchExpressions: [{ key, operator: rng.pick(['Exists', 'DoesNotExist']) }] };
    case 3:
      return {
        matchExpressions: [{ key, operator: 'In', values: [rng.pick(values), rng.pick(values)] }],
      };
    default:
      return { matchLabels: { [key]: rng.pick(values) } };
  }
}

const POD_KEYS = { app: ['a', 'b', 'c'], tier: ['1', '2'] };
const NS_KEYS = { team: ['red', 'blue'], 'kubernetes.io/metadata.name': ['n0', 'n1'] };

function peer(rng: Rng): Obj {
  switch (rng.int(0, 4 - 1)) {
    case 0:
      return { podSelector: selector(rng, POD_KEYS) };
    case 1:
      return { namespaceSelector: selector(rng, NS_KEYS) };
    case 2:
      return { namespaceSelector: selector(rng, NS_KEYS), podSelector: selector(rng, POD_KEYS) };
    default:
      return { ipBlock: { cidr: '10.1.0.0/28', except: ['10.1.0.4/30'] } };
  }
}

function ports(rng: Rng): Obj[] | undefined {
  const choices: Obj[] = [
    { port: 80 },
    { port: 'http' },
    { protocol: 'UDP', port: 53 },
    { protocol: 'UDP', port: 'dns' },
    { port: 1, endPort: 1024 },
    { protocol: 'UDP' },
  ];
  if (rng.int(0, 3 - 1) === 0) return undefined;
  return Array.from({ length: 1 + rng.int(0, 2 - 1) }, () => rng.pick(choices));
}

function rules(rng: Rng, dir: 'from' | 'to'): Obj[] {
  return Array.from({ length: rng.int(0, 3 - 1) }, () => {
    const r: Obj = {};
    if (rng.int(0, 4 - 1) > 0)
      r[dir] = Array.from({ length: 1 + rng.int(0, 2 - 1) }, () => peer(rng));
    const p = ports(rng);
    if (p) r.ports = p;
    return r;
  });
}

/**
 * A random cluster's objects. `labels` overrides pod labels (the re-import step).
 *
 * @example randomCluster(makeRng(1), 6).length // 2 namespaces + 6 pods + NetworkPolicies
 */
export function randomCluster(rng: Rng, pods: number, relabel = false): Obj[] {
  const out: Obj[] = ['n0', 'n1'].map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { team: rng.pick(['red', 'blue']) } },
  }));
  for (let i = 0; i < pods; i++) {
    const labels: Record<string, string> = { app: rng.pick(POD_KEYS.app) };
    if (rng.int(0, 2 - 1) === 0 || relabel) labels.tier = rng.pick(POD_KEYS.tier);
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: `n${i % 2}`, labels },
      spec: {
        containers: [
          {
            name: 'c',
            ports: [
              { name: 'http', containerPort: rng.pick([80, 8050]) },
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
            ],
          },
        ],
      },
      status: { podIP: `10.1.0.${i + 2}` },
    });
  }
  for (let k = 0; k < 3; k++) {
    const spec: Obj = { podSelector: selector(rng, POD_KEYS) };
    const types = rng.pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    if (types) spec.policyTypes = types;
    if (rng.int(0, 3 - 1) > 0) spec.ingress = rules(rng, 'from');
    if (rng.int(0, 3 - 1) > 0) spec.egress = rules(rng, 'to');
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `np${k}`, namespace: `n${k % 2}` },
      spec,
    });
  }
  return out;
}
