/**
 * The scenarios of kubernetes' test/e2e/network/netpol/network_policy.go, on the full
 * model (9 pods, 81 pairs), with the expected reachability written as data: start
 * from "every pair connects" and apply each `[from, to, verdict]` line in order.
 * `x/*` is every pod of x, `*` every pod. A pod talking to itself is always allowed
 * in vnp (design §2.3); upstream leaves loopback undefined and ignores it.
 */
import { networkPolicy, podIp, type ClusterOptions, type Obj } from './netpol-model.js';

export type Verdict = 'allow' | 'deny';
export type Line = [from: string, to: string, verdict: Verdict];
export interface Probe {
  proto: 'tcp' | 'udp' | 'sctp';
  port: number;
  expect: Line[];
}
export interface Step {
  cluster?: ClusterOptions;
  policies: Obj[];
  probes: Probe[];
}
export interface Scenario {
  name: string;
  steps: Step[];
}

const D: Verdict = 'deny';
const A: Verdict = 'allow';
const pod = (name: string): Obj => ({ matchLabels: { pod: name } });
const nsName = (ns: string): Obj => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });
const nsNotIn = (...ns: string[]): Obj => ({
  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ns }],
});
const tcp = (port: number, expect: Line[]): Probe => ({ proto: 'tcp', port, expect });
const one = (name: string, policies: Obj[], ...probes: Probe[]): Scenario => ({
  name,
  steps: [{ policies, probes }],
});

const denyIngressX = networkPolicy('x', 'deny-ingress', {
  podSelector: {},
  policyTypes: ['Ingress'],
});
const fromYOnPort = (name: string, proto: string, port: number | string): Obj =>
  networkPolicy('x', name, {
    podSelector: pod('a'),
    ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ protocol: proto, port }] }],
  });
const onlyYToXA: Line[] = [
  ['x/*', 'x/a', D],
  ['z/*', 'x/a', D],
];
const yaOnlyToXA: Line[] = [
  ['*', 'x/a', D],
  ['y/a', 'x/a', A],
];
const yaOnly = networkPolicy('x', 'allow-ns-y-pod-a', {
  podSelector: pod('a'),
  ingress: [{ from: [{ namespaceSelector: nsName('y'), podSelector: pod('a') }] }],
});
const cidrExceptXB = (): Obj =>
  networkPolicy('x', 'allow-client-a-via-cidr-egress-rule', {
    podSelector: pod('a'),
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/4', except: [`${podIp('x', 'b')}/32`] } }] }],
  });
const denyAllX = networkPolicy('x', 'deny-all', {
  podSelector: {},
  policyTypes: ['Ingress', 'Egress'],
});

export const SCENARIOS: Scenario[] = [
  one(
    'default-deny-ingress, on tcp, udp and sctp',
    [denyIngressX],
    ...(['tcp', 'udp', 'sctp'] as const).map((proto): Probe => ({
      proto,
      port: 80,
      expect: [['*', 'x/*', D]],
    })),
  ),
  one(
    'default-deny-all',
    [denyAllX],
    tcp(80, [
      ['*', 'x/*', D],
      ['x/*', '*', D],
    ]),
  ),
  one(
    'ingress from one pod of the same namespace by podSelector',
    [
      networkPolicy('x', 'x-a-allows-x-b', {
        podSelector: pod('a'),
        ingress: [{ from: [{ podSelector: pod('b') }] }],
      }),
    ],
    tcp(80, [
      ['*', 'x/a', D],
      ['x/b', 'x/a', A],
    ]),
  ),
  one(
    'a deny-all plus an allow-all to one target (union of allows)',
    [
      networkPolicy('x', 'deny-all', { podSelector: {}, ingress: [] }),
      networkPolicy('x', 'allow-all-to-a', {
        podSelector: pod('a'),
        ingress: [{ from: [{ podSelector: {}, namespaceSelector: {} }] }],
      }),
    ],
    tcp(80, [
      ['*', 'x/*', D],
      ['*', 'x/a', A],
    ]),
  ),
  one(
    'ingress from every namespace (empty namespaceSelector)',
    [
      networkPolicy('x', 'allow-from-another-ns', {
        podSelector: pod('a'),
        ingress: [{ from: [{ namespaceSelector: { matchLabels: {} } }] }],
      }),
    ],
    tcp(80, []),
  ),
  one(
    'ingress only from namespace y by namespaceSelector matchLabels',
    [
      networkPolicy('x', 'allow-client-a-via-ns-selector', {
        podSelector: pod('a'),
        ingress: [{ from: [{ namespaceSelector: nsName('y') }] }],
      }),
    ],
    tcp(80, onlyYToXA),
  ),
  one(
    'podSelector with matchExpressions In',
    [
      networkPolicy('x', 'x-a-allows-x-b', {
        podSelector: pod('a'),
        ingress: [
          {
            from: [
              {
                podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] },
              },
            ],
          },
        ],
      }),
    ],
    tcp(80, [
      ['*', 'x/a', D],
      ['x/b', 'x/a', A],
    ]),
  ),
  one(
    'namespaceSelector with matchExpressions In',
    [
      networkPolicy('x', 'allow-ns-y-match-selector', {
        podSelector: pod('a'),
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [
                    { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y'] },
                  ],
                },
              },
            ],
          },
        ],
      }),
    ],
    tcp(80, onlyYToXA),
  ),
  one(
    'two peers: namespaceSelector NotIn x, or podSelector pod=b',
    [
      networkPolicy('x', 'allow-ns-y-match-selector', {
        podSelector: pod('a'),
        ingress: [{ from: [{ namespaceSelector: nsNotIn('x') }, { podSelector: pod('b') }] }],
      }),
    ],
    tcp(80, [
      ['x/a', 'x/a', D],
      ['x/c', 'x/a', D],
    ]),
  ),
  one(
    'one peer with namespaceSelector and podSelector (both must hold)',
    [
      networkPolicy('x', 'allow-ns-y-podselector-and-nsselector', {
        podSelector: pod('a'),
        ingress: [{ from: [{ namespaceSelector: nsNotIn('x'), podSelector: pod('b') }] }],
      }),
    ],
    tcp(80, [
      ['*', 'x/a', D],
      ['y/b', 'x/a', A],
      ['z/b', 'x/a', A],
    ]),
  ),
  one(
    'namespaceSelector NotIn with podSelector In {b, c}',
    [
      networkPolicy('x', 'allow-ns-y-z-pod-b-c', {
        podSelector: pod('a'),
        ingress: [
          {
            from: [
              {
                namespaceSelector: nsNotIn('x'),
                podSelector: {
                  matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }],
                },
              },
            ],
          },
        ],
      }),
    ],
    tcp(80, [
      ['x/*', 'x/a', D],
      ['y/a', 'x/a', D],
      ['z/a', 'x/a', D],
    ]),
  ),
  one(
    'two podSelector peers',
    [
      networkPolicy('x', 'allow-ns-x-pod-b-c', {
        podSelector: pod('a'),
        ingress: [{ from: [{ podSelector: pod('b') }, { podSelector: pod('c') }] }],
      }),
    ],
    tcp(80, [
      ['*', 'x/a', D],
      ['x/b', 'x/a', A],
      ['x/c', 'x/a', A],
    ]),
  ),
  one(
    'only y/a by namespace and pod selector, on tcp, udp and sctp',
    [yaOnly],
    ...(['tcp', 'udp', 'sctp'] as const).map((proto): Probe => ({
      proto,
      port: 80,
      expect: yaOnlyToXA,
    })),
  ),
  one(
    'one port from namespace y (tcp 81)',
    [fromYOnPort('allow-client-a-via-ns-selector', 'TCP', 81)],
    tcp(81, onlyYToXA),
    tcp(80, [['*', 'x/a', D]]),
  ),
  one(
    'one port from namespace y (udp 81)',
    [fromYOnPort('allow-ingress-on-port-81-ns-x', 'UDP', 81)],
    { proto: 'udp', port: 81, expect: onlyYToXA },
    { proto: 'udp', port: 80, expect: [['*', 'x/a', D]] },
  ),
  one(
    'one port from namespace y (sctp 81)',
    [fromYOnPort('allow-ingress-on-port-81-ns-x', 'SCTP', 81)],
    { proto: 'sctp', port: 81, expect: onlyYToXA },
    { proto: 'sctp', port: 80, expect: [['*', 'x/a', D]] },
  ),
  {
    name: 'stacked policies with overlapping podSelectors, one port each',
    steps: [
      {
        policies: [fromYOnPort('allow-client-a-via-ns-selector', 'TCP', 81)],
        probes: [tcp(81, onlyYToXA), tcp(80, [['*', 'x/a', D]])],
      },
      {
        policies: [
          fromYOnPort('allow-client-a-via-ns-selector', 'TCP', 81),
          fromYOnPort('allow-client-a-via-ns-selector-80', 'TCP', 80),
        ],
        probes: [tcp(81, onlyYToXA), tcp(80, onlyYToXA)],
      },
    ],
  },
  one(
    'allow-all (one empty ingress rule)',
    [networkPolicy('x', 'allow-all', { podSelector: {}, ingress: [{}] })],
    tcp(80, []),
    tcp(81, []),
  ),
  one(
    'ingress on one named port',
    [
      networkPolicy('x', 'allow-all', {
        podSelector: {},
        ingress: [{ ports: [{ port: 'serve-81-tcp' }] }],
      }),
    ],
    tcp(81, []),
    tcp(80, [['*', 'x/*', D]]),
  ),
  one(
    'ingress from namespace y on one named port',
    [fromYOnPort('allow-client-a-via-ns-selector-80', 'TCP', 'serve-80-tcp')],
    tcp(80, onlyYToXA),
    tcp(81, [['*', 'x/a', D]]),
  ),
  one(
    'egress on one named port',
    [
      networkPolicy('x', 'allow-egress', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'serve-80-tcp' }] }],
      }),
    ],
    tcp(80, []),
    tcp(81, [['x/*', '*', D]]),
  ),
  {
    name: 'an updated policy: allow-all becomes deny-all',
    steps: [
      {
        policies: [
          networkPolicy('x', 'allow-all-mutate-to-deny-all', { podSelector: {}, ingress: [{}] }),
        ],
        probes: [tcp(81, [])],
      },
      {
        policies: [
          networkPolicy('x', 'allow-all-mutate-to-deny-all', { podSelector: {}, ingress: [] }),
        ],
        probes: [tcp(81, [['*', 'x/*', D]])],
      },
    ],
  },
  (() => {
    const p = networkPolicy('x', 'allow-client-a-via-ns-selector', {
      podSelector: pod('a'),
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }],
    });
    return {
      name: 'a namespace label added later lets that namespace in',
      steps: [
        { policies: [p], probes: [tcp(80, [['*', 'x/a', D]])] },
        {
          cluster: { nsLabels: { y: { ns2: 'updated' } } },
          policies: [p],
          probes: [
            tcp(80, [
              ['*', 'x/a', D],
              ['y/*', 'x/a', A],
            ]),
          ],
        },
        { policies: [p], probes: [tcp(80, [['*', 'x/a', D]])] },
      ],
    };
  })(),
  (() => {
    const p = networkPolicy('x', 'allow-client-a-via-pod-selector', {
      podSelector: pod('a'),
      ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }],
    });
    return {
      name: 'a pod label added later lets that pod in',
      steps: [
        { policies: [p], probes: [tcp(80, [['*', 'x/a', D]])] },
        {
          cluster: { podLabels: { 'x/b': { pod2: 'updated' } } },
          policies: [p],
          probes: [
            tcp(80, [
              ['*', 'x/a', D],
              ['x/b', 'x/a', A],
            ]),
          ],
        },
      ],
    };
  })(),
  one(
    'ingress only from the same namespace (podSelector {} alone)',
    [
      networkPolicy('x', 'deny-empty-policy', {
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: {} } }] }],
      }),
    ],
    tcp(80, [
      ['y/*', 'x/*', D],
      ['z/*', 'x/*', D],
    ]),
  ),
  (() => {
    const p = networkPolicy('x', 'deny-ingress-via-label-selector', {
      podSelector: { matchLabels: { target: 'isolated' } },
      policyTypes: ['Ingress'],
    });
    return {
      name: 'a pod label added later isolates the pod',
      steps: [
        { policies: [p], probes: [tcp(80, [])] },
        {
          cluster: { podLabels: { 'x/a': { target: 'isolated' } } },
          policies: [p],
          probes: [tcp(80, [['*', 'x/a', D]])],
        },
      ],
    };
  })(),
  one(
    'deny egress of one pod',
    [networkPolicy('x', 'deny-egress-pod-a', { podSelector: pod('a'), policyTypes: ['Egress'] })],
    tcp(80, [['x/a', '*', D]]),
  ),
  one(
    'deny egress of a namespace',
    [networkPolicy('x', 'deny-egress-ns-x', { podSelector: {}, policyTypes: ['Egress'] })],
    tcp(80, [['x/*', '*', D]]),
  ),
  one(
    'ingress and egress in one policy',
    [
      networkPolicy('x', 'allow-client-a-via-pod-selector', {
        podSelector: pod('a'),
        ingress: [{ from: [{ podSelector: pod('b') }] }],
        egress: [{ ports: [{ port: 80 }] }],
        policyTypes: ['Egress', 'Ingress'],
      }),
    ],
    tcp(80, [
      ['*', 'x/a', D],
      ['x/b', 'x/a', A],
    ]),
    tcp(81, [
      ['*', 'x/a', D],
      ['x/a', '*', D],
      ['x/b', 'x/a', A],
    ]),
  ),
  one(
    'the client side denies egress even where the server allows ingress',
    [
      networkPolicy('x', 'allow-to-ns-y-pod-a', {
        podSelector: pod('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: nsName('y'), podSelector: pod('a') }] }],
      }),
      networkPolicy('y', 'allow-from-xa-on-ya-match-selector', {
        podSelector: pod('a'),
        ingress: [{ from: [{ namespaceSelector: nsName('x'), podSelector: pod('a') }] }],
      }),
      networkPolicy('y', 'allow-from-xa-on-yb-match-selector', {
        podSelector: pod('b'),
        ingress: [{ from: [{ namespaceSelector: nsName('x'), podSelector: pod('a') }] }],
      }),
    ],
    tcp(80, [
      ['x/a', '*', D],
      ['*', 'y/a', D],
      ['x/a', 'y/a', A],
      ['*', 'y/b', D],
    ]),
  ),
  one(
    'egress to a pod of another namespace by namespace and pod selector',
    [
      networkPolicy('x', 'allow-to-ns-y-pod-a', {
        podSelector: pod('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: nsName('y'), podSelector: pod('a') }] }],
      }),
    ],
    tcp(80, [
      ['x/a', '*', D],
      ['x/a', 'y/a', A],
    ]),
  ),
  one(
    'ingress on any port of one protocol',
    [
      networkPolicy('x', 'allow-ingress-by-proto', {
        podSelector: pod('a'),
        ingress: [{ ports: [{ protocol: 'TCP' }] }],
      }),
    ],
    tcp(80, []),
    { proto: 'udp', port: 80, expect: [['*', 'x/a', D]] },
  ),
  {
    name: 'an ingress allow-all beside a one-port policy',
    steps: [
      {
        policies: [
          networkPolicy('x', 'allow-ingress-port-80', {
            podSelector: {},
            ingress: [{ ports: [{ port: 80 }] }],
          }),
        ],
        probes: [tcp(81, [['*', 'x/*', D]])],
      },
      {
        policies: [
          networkPolicy('x', 'allow-ingress-port-80', {
            podSelector: {},
            ingress: [{ ports: [{ port: 80 }] }],
          }),
          networkPolicy('x', 'allow-ingress', { podSelector: {}, ingress: [{}] }),
        ],
        probes: [tcp(81, [])],
      },
    ],
  },
  {
    name: 'an egress allow-all beside a one-port policy',
    steps: [
      {
        policies: [
          networkPolicy('x', 'allow-egress-port-80', {
            podSelector: {},
            policyTypes: ['Egress'],
            egress: [{ ports: [{ port: 80 }] }],
          }),
        ],
        probes: [tcp(81, [['x/*', '*', D]])],
      },
      {
        policies: [
          networkPolicy('x', 'allow-egress-port-80', {
            podSelector: {},
            policyTypes: ['Egress'],
            egress: [{ ports: [{ port: 80 }] }],
          }),
          networkPolicy('x', 'allow-egress', {
            podSelector: {},
            policyTypes: ['Egress'],
            egress: [{}],
          }),
        ],
        probes: [tcp(81, [])],
      },
    ],
  },
  {
    name: 'policies stop being enforced once deleted (pruned by the next import)',
    steps: [
      {
        policies: [denyAllX],
        probes: [
          tcp(80, [
            ['x/*', '*', D],
            ['*', 'x/*', D],
          ]),
        ],
      },
      { policies: [], probes: [tcp(80, [])] },
    ],
  },
  one(
    'egress to one pod by a /32 ipBlock',
    [
      networkPolicy('x', 'allow-client-a-via-cidr-egress-rule', {
        podSelector: pod('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${podIp('y', 'b')}/32` } }] }],
      }),
    ],
    tcp(80, [
      ['x/a', '*', D],
      ['x/a', 'y/b', A],
    ]),
  ),
  one('ipBlock except in egress', [cidrExceptXB()], tcp(80, [['x/a', 'x/b', D]])),
  {
    name: "an address in both an ipBlock except and another policy's ipBlock is allowed",
    steps: [
      { policies: [cidrExceptXB()], probes: [tcp(80, [['x/a', 'x/b', D]])] },
      {
        policies: [
          networkPolicy('x', 'allow-client-a-via-cidr-egress-rule', {
            podSelector: pod('a'),
            policyTypes: ['Egress'],
            egress: [{ to: [{ ipBlock: { cidr: `${podIp('x', 'b')}/32` } }] }],
          }),
        ],
        probes: [
          tcp(80, [
            ['x/a', '*', D],
            ['x/a', 'x/b', A],
          ]),
        ],
      },
    ],
  },
  (() => {
    const egress = networkPolicy('x', 'allow-egress-for-target', {
      podSelector: pod('a'),
      policyTypes: ['Egress'],
      egress: [{}],
    });
    return {
      name: 'ingress and egress of one pod are controlled independently',
      steps: [
        { policies: [egress], probes: [tcp(80, [])] },
        {
          policies: [
            egress,
            networkPolicy('x', 'deny-ingress-via-label-selector', {
              podSelector: pod('a'),
              policyTypes: ['Ingress'],
            }),
          ],
          probes: [tcp(80, [['*', 'x/a', D]])],
        },
      ],
    };
  })(),
  one(
    'protocol SCTP is not TCP',
    [
      denyIngressX,
      networkPolicy('x', 'allow-only-sctp-ingress-on-port-81', {
        podSelector: pod('a'),
        ingress: [{ ports: [{ port: 81, protocol: 'SCTP' }] }],
      }),
    ],
    tcp(81, [['*', 'x/*', D]]),
    {
      proto: 'sctp',
      port: 81,
      expect: [
        ['*', 'x/*', D],
        ['*', 'x/a', A],
      ],
    },
  ),
  one(
    'a policy allowing only SCTP still isolates the pod',
    [
      networkPolicy('x', 'allow-only-sctp-ingress-on-port-80', {
        podSelector: pod('a'),
        ingress: [{ ports: [{ port: 80, protocol: 'SCTP' }] }],
      }),
    ],
    tcp(81, [['*', 'x/a', D]]),
    { proto: 'sctp', port: 80, expect: [] },
  ),
  one(
    'a policy allowing only UDP does not allow TCP',
    [
      networkPolicy('x', 'allow-only-udp-ingress-on-port-81', {
        podSelector: pod('a'),
        ingress: [{ ports: [{ port: 81, protocol: 'UDP' }] }],
      }),
    ],
    tcp(81, [['*', 'x/a', D]]),
    { proto: 'udp', port: 81, expect: [] },
  ),
  one(
    'egress by namespaceSelector NotIn on the automatic namespace label',
    [
      networkPolicy('x', 'allow-ns-y-match-selector-for-immutable-ns-label', {
        podSelector: pod('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: nsNotIn('y') }] }],
      }),
    ],
    tcp(80, [['x/a', 'y/*', D]]),
  ),
  one(
    'a port range (endPort) from namespace y',
    [
      networkPolicy('x', 'allow-range', {
        podSelector: pod('a'),
        ingress: [
          { from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 80, endPort: 81 }] },
        ],
      }),
    ],
    tcp(80, onlyYToXA),
    tcp(81, onlyYToXA),
    { proto: 'udp', port: 80, expect: [['*', 'x/a', D]] },
  ),
];
