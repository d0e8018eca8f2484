/**
 * Table-driven tests of every NetworkPolicy construct: each row imports a small
 * cluster and a policy through readObjects → translate into a real Engine and
 * checks verdicts (and, where the text matters, the generated selectors).
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine/index.js';
import type { Document } from '../model/types.js';
import { readObjects } from './objects.js';
import { translate } from './translate.js';

type Obj = Record<string, unknown>;
const SUBNET = { name: 'pods', cidr: '10.1.0.0/16' };

const ns = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
/** A pod with `ports` as `name:proto:number`. */
const pod = (
  ref: string,
  ip: string,
  labels: Record<string, string>,
  ports: string[] = [],
): Obj => {
  const [namespace, name] = ref.split('/');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      containers: [
        {
          name: 'c',
          ports: ports.map((p) => {
            const [pn, proto, n] = p.split(':');
            return { name: pn, protocol: proto, containerPort: Number(n) };
          }),
        },
      ],
    },
    status: { podIP: ip },
  };
};
const np = (ref: string, spec: Obj): Obj => {
  const [namespace, name] = ref.split('/');
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  };
};

/** a, b in ns1 (team=red), c in ns2 (team=blue); each serves http on its own number. */
const CLUSTER: Obj[] = [
  ns('ns1', { team: 'red' }),
  ns('ns2', { team: 'blue' }),
  pod('ns1/a', '10.1.0.1', { app: 'web', tier: 'front' }, ['http:TCP:8080']),
  pod('ns1/b', '10.1.0.2', { app: 'db' }, ['http:TCP:9090']),
  pod('ns2/c', '10.1.0.3', { app: 'web' }, ['http:TCP:7070', 'dns:UDP:53']),
];
const IP: Record<string, string> = {
  a: '10.1.0.1',
  b: '10.1.0.2',
  c: '10.1.0.3',
  out: '192.0.2.9',
};

function engineFor(objects: Obj[]): { engine: Engine; docs: Document[] } {
  const { documents } = translate(readObjects(objects), { source: 'k8s', subnet: SUBNET });
  const engine = new Engine();
  engine.apply(
    [
      { op: 'put', doc: { kind: 'Subnet', ...SUBNET } },
      ...documents.map((doc) => ({ op: 'put' as const, doc })),
    ],
    0,
  );
  return { engine, docs: documents };
}

/** `a>b tcp/80` → the verdict; endpoints are pod letters or `out` (an outside address). */
function verdict(engine: Engine, flow: string): string {
  const [pair, spec] = flow.split(' ') as [string, string];
  const [src, dst] = pair.split('>') as [string, string];
  const [protocol, port] = spec.split('/') as ['tcp' | 'udp' | 'sctp', string];
  return engine.check({ src: IP[src]!, dst: IP[dst]!, protocol, port: Number(port) }).verdict;
}

interface Row {
  name: string;
  policies: Obj[];
  /** `flow: verdict`. */
  expect: Record<string, 'allow' | 'deny'>;
}

const ROWS: Row[] = [
  {
    name: 'no policy: everything allowed',
    policies: [],
    expect: { 'a>b tcp/80': 'allow', 'c>a udp/53': 'allow', 'out>a tcp/1': 'allow' },
  },
  {
    name: 'podSelector alone selects in the policy namespace only',
    policies: [np('ns1/p', { podSelector: { matchLabels: { app: 'web' } }, ingress: [] })],
    expect: { 'b>a tcp/80': 'deny', 'a>c tcp/80': 'allow', 'a>b tcp/80': 'allow' },
  },
  {
    name: 'ingress: [] isolates; absent ingress with Egress type does not',
    policies: [np('ns1/p', { podSelector: {}, policyTypes: ['Egress'] })],
    expect: { 'c>a tcp/80': 'allow', 'a>c tcp/80': 'deny', 'a>out tcp/443': 'deny' },
  },
  {
    name: 'policyTypes defaulted: Ingress always, Egress when egress rules exist',
    policies: [
      np('ns1/p', {
        podSelector: { matchLabels: { app: 'db' } },
        egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }],
      }),
    ],
    expect: { 'a>b tcp/80': 'deny', 'b>c udp/53': 'allow', 'b>c tcp/80': 'deny' },
  },
  {
    name: 'an empty rule allows everything; an empty peer list is every peer',
    policies: [np('ns1/p', { podSelector: {}, ingress: [{ from: [], ports: [{ port: 80 }] }] })],
    expect: { 'c>a tcp/80': 'allow', 'out>a tcp/80': 'allow', 'c>a tcp/81': 'deny' },
  },
  {
    name: 'namespaceSelector alone: every pod of those namespaces, no outside address',
    policies: [
      np('ns1/p', {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }],
      }),
    ],
    expect: { 'c>a tcp/80': 'allow', 'b>a tcp/80': 'deny', 'out>a tcp/80': 'deny' },
  },
  {
    name: 'namespaceSelector and podSelector in one peer: both must hold',
    policies: [
      np('ns1/p', {
        podSelector: {},
        ingress: [
          { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'web' } } }] },
        ],
      }),
    ],
    expect: { 'c>b tcp/80': 'allow', 'a>b tcp/80': 'allow', 'b>a tcp/80': 'deny' },
  },
  {
    name: 'matchExpressions In, NotIn (absent key included), Exists, DoesNotExist',
    policies: [
      np('ns1/in', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [
          {
            from: [
              {
                namespaceSelector: {},
                podSelector: {
                  matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }],
                },
              },
            ],
          },
        ],
      }),
      np('ns1/ex', {
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchExpressions: [
                    { key: 'tier', operator: 'DoesNotExist' },
                    { key: 'app', operator: 'In', values: ['db', 'x'] },
                  ],
                },
              },
            ],
          },
        ],
      }),
    ],
    expect: {
      'c>b tcp/80': 'allow',
      'a>b tcp/80': 'deny',
      'b>a tcp/80': 'allow',
      'c>a tcp/80': 'deny',
    },
  },
  {
    name: 'ipBlock with except, ingress and egress; pod addresses count',
    policies: [
      np('ns1/p', {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }],
        egress: [{ to: [{ ipBlock: { cidr: '10.1.0.0/24', except: ['10.1.0.3/32'] } }] }],
      }),
    ],
    expect: {
      'out>a tcp/22': 'allow',
      'b>a tcp/22': 'deny',
      'a>b tcp/1': 'allow',
      'a>c tcp/1': 'deny',
      'a>out tcp/1': 'deny',
    },
  },
  {
    name: 'several policies on one pod: the union of their allows',
    policies: [
      np('ns1/p80', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ ports: [{ port: 80 }] }],
      }),
      np('ns1/p81', { podSelector: {}, ingress: [{ ports: [{ port: 81, protocol: 'TCP' }] }] }),
    ],
    expect: {
      'a>b tcp/80': 'allow',
      'a>b tcp/81': 'allow',
      'a>b tcp/82': 'deny',
      'b>a tcp/80': 'deny',
    },
  },
  {
    name: 'ports: SCTP is its own protocol; endPort is an inclusive range',
    policies: [
      np('ns1/p', {
        podSelector: {},
        ingress: [
          {
            ports: [
              { protocol: 'SCTP', port: 9 },
              { port: 1000, endPort: 1002 },
            ],
          },
        ],
      }),
    ],
    expect: {
      'c>a sctp/9': 'allow',
      'c>a tcp/9': 'deny',
      'c>a tcp/1002': 'allow',
      'c>a tcp/1003': 'deny',
    },
  },
  {
    name: 'named ingress port resolves on the selected pod, per pod',
    policies: [
      np('ns1/p', {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'http' }] }],
      }),
    ],
    expect: {
      'c>a tcp/8080': 'allow',
      'c>a tcp/9090': 'deny',
      'c>b tcp/9090': 'allow',
      'c>b tcp/8080': 'deny',
    },
  },
  {
    name: 'named egress port resolves on the peer (destination) pod',
    policies: [
      np('ns1/p', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'http' }] }],
      }),
    ],
    expect: {
      'b>c tcp/7070': 'allow',
      'b>c tcp/8080': 'deny',
      'b>a tcp/8080': 'allow',
      'b>a tcp/7070': 'deny',
    },
  },
  {
    name: 'named port with its protocol: dns is UDP only',
    policies: [
      np('ns1/p', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'dns', protocol: 'UDP' }] }],
      }),
    ],
    expect: { 'a>c udp/53': 'allow', 'a>c tcp/53': 'deny', 'a>out udp/53': 'deny' },
  },
  {
    name: 'a named port on an ipBlock peer reaches the pods inside it',
    policies: [
      np('ns1/p', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.1.0.0/31' } }], ports: [{ port: 'http' }] }],
      }),
    ],
    expect: { 'b>a tcp/8080': 'allow', 'b>c tcp/7070': 'deny' },
  },
];

describe('translate: NetworkPolicy constructs, checked on a real engine', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const { engine } = engineFor([...CLUSTER, ...row.policies]);
      const got = Object.fromEntries(Object.keys(row.expect).map((f) => [f, verdict(engine, f)]));
      expect(got).toEqual(row.expect);
    });
  }

  it('the deciding policy names the NetworkPolicy it came from', () => {
    const { engine } = engineFor([
      ...CLUSTER,
      np('ns1/only-web', {
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
      }),
    ]);
    const denied = engine.check({ src: IP.c!, dst: IP.a!, protocol: 'tcp', port: 80 });
    expect(denied.ingress.policy).toBe('k8s.ns1.only-web_isolation');
    const allowed = engine.check({ src: IP.a!, dst: IP.b!, protocol: 'tcp', port: 80 });
    expect(allowed.ingress.policy).toBe('k8s.ns1.only-web');
  });

  it('records carry labels, namespace labels (with the automatic name), named ports and the source', () => {
    const { docs } = engineFor(CLUSTER);
    const c = docs.find((d) => d.name === 'k8s.ns2.c');
    expect(c).toMatchObject({
      kind: 'Interface',
      subnet: 'pods',
      ips: ['10.1.0.3'],
      tags: {
        app: 'web',
        'ns:team': 'blue',
        'ns:kubernetes.io/metadata.name': 'ns2',
        'port:tcp:http': 7070,
        'port:udp:dns': 53,
        'k8s:source': 'k8s',
        'k8s:pod': 'ns2/c',
      },
    });
  });

  it('NotIn reads as "not in the set, or no such label" (not vnp `not in`)', () => {
    const { docs } = engineFor([
      ...CLUSTER,
      np('ns1/p', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] },
        ingress: [],
      }),
    ]);
    const p = docs.find((d) => d.name === 'k8s.ns1.p_isolation') as { appliesTo: string };
    expect(p.appliesTo).toContain('!(app in {"db"})');
  });

  it('long names are cut to 63 characters with a hash, keeping their suffix', () => {
    const long = 'a'.repeat(70);
    const { docs } = engineFor([...CLUSTER, np(`ns1/${long}`, { podSelector: {}, ingress: [] })]);
    const names = docs.filter((d) => d.kind === 'Policy').map((d) => d.name);
    expect(names).toHaveLength(1);
    expect(names[0]!.length).toBeLessThanOrEqual(63);
    expect(names[0]).toMatch(/^k8s\.ns1\.a+-[0-9a-f]{8}_isolation$/);
  });
});
