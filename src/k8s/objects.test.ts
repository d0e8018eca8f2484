/**
 * Bad input gets an error naming the field (objects[i].path) and the object, and
 * what was expected; a table of every refused construct.
 */
import { describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { readObjects } from './objects.js';
import { translate } from './translate.js';

type Obj = Record<string, unknown>;
const NS: Obj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } };
const POD: Obj = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'a', namespace: 'x', labels: { pod: 'a' } },
  status: { podIP: '10.0.0.1' },
};
const policy = (spec: Obj, namespace = 'x'): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'p', namespace },
  spec,
});
const ingressPort = (port: Obj): Obj => policy({ podSelector: {}, ingress: [{ ports: [port] }] });

function importAll(objects: Obj[]): void {
  translate(readObjects(objects), { source: 'k8s', subnet: { name: 'pods', cidr: '10.0.0.0/24' } });
}

const CASES: { name: string; objects: Obj[]; field: string; message: RegExp }[] = [
  {
    name: 'unknown kind',
    objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }],
    field: 'objects[0].kind',
    message: /Namespace, Pod or NetworkPolicy.*got "Service"/,
  },
  {
    name: 'unknown apiVersion',
    objects: [{ ...policy({ podSelector: {} }), apiVersion: 'networking.k8s.io/v1beta1' }],
    field: 'objects[0].apiVersion',
    message: /"networking.k8s.io\/v1" for kind NetworkPolicy/,
  },
  {
    name: 'NetworkPolicy in an undeclared namespace',
    objects: [NS, policy({ podSelector: {} }, 'nope')],
    field: 'objects[1].metadata.namespace',
    message: /no Namespace object declares "nope"/,
  },
  {
    name: 'Pod in an undeclared namespace',
    objects: [POD],
    field: 'objects[0].metadata.namespace',
    message: /Pod x\/a.*no Namespace object declares "x"/,
  },
  {
    name: 'Pod without an IP',
    objects: [NS, { ...POD, status: { phase: 'Pending' } }],
    field: 'objects[1].status.podIP',
    message: /Pod x\/a.*the pod's address/,
  },
  {
    name: 'Pod address outside the subnet',
    objects: [NS, { ...POD, status: { podIP: '10.9.0.1' } }],
    field: 'objects[1].status.podIPs[0]',
    message: /Pod x\/a.*10\.9\.0\.1 is not inside subnet pods/,
  },
  {
    name: 'malformed selector: unknown operator',
    objects: [
      NS,
      policy({
        podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] },
      }),
    ],
    field: 'objects[1].spec.podSelector.matchExpressions[0].operator',
    message: /In, NotIn, Exists or DoesNotExist/,
  },
  {
    name: 'malformed selector: In without values',
    objects: [NS, policy({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } })],
    field: 'objects[1].spec.podSelector.matchExpressions[0].values',
    message: /at least one value for In/,
  },
  {
    name: 'malformed selector: Exists with values',
    objects: [
      NS,
      policy({
        podSelector: {},
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchExpressions: [{ key: 'a', operator: 'Exists', values: ['b'] }],
                },
              },
            ],
          },
        ],
      }),
    ],
    field: 'objects[1].spec.ingress[0].from[0].podSelector.matchExpressions[0].values',
    message: /no values for Exists/,
  },
  {
    name: 'malformed selector: bad label key',
    objects: [NS, policy({ podSelector: { matchLabels: { 'a b': 'c' } } })],
    field: 'objects[1].spec.podSelector.matchLabels["a b"]',
    message: /a label key/,
  },
  {
    name: 'endPort below port',
    objects: [NS, ingressPort({ port: 90, endPort: 80 })],
    field: 'objects[1].spec.ingress[0].ports[0].endPort',
    message: /endPort ≥ port 90, got 80/,
  },
  {
    name: 'named port with endPort',
    objects: [NS, ingressPort({ port: 'http', endPort: 90 })],
    field: 'objects[1].spec.ingress[0].ports[0].endPort',
    message: /no endPort with the named port "http"/,
  },
  {
    name: 'unknown protocol',
    objects: [NS, ingressPort({ protocol: 'ICMP' })],
    field: 'objects[1].spec.ingress[0].ports[0].protocol',
    message: /TCP, UDP or SCTP/,
  },
  {
    name: 'ipBlock except outside its cidr',
    objects: [
      NS,
      policy({
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.1.0.0/28'] } }] }],
      }),
    ],
    field: 'objects[1].spec.ingress[0].from[0].ipBlock.except[0]',
    message: /strictly inside 10\.0\.0\.0\/24/,
  },
  {
    name: 'a peer with nothing in it',
    objects: [NS, policy({ podSelector: {}, ingress: [{ from: [{}] }] })],
    field: 'objects[1].spec.ingress[0].from[0]',
    message: /one of podSelector, namespaceSelector, ipBlock/,
  },
  {
    name: 'bad policyTypes',
    objects: [NS, policy({ podSelector: {}, policyTypes: ['Both'] })],
    field: 'objects[1].spec.policyTypes[0]',
    message: /Ingress or Egress/,
  },
  {
    name: 'an object twice',
    objects: [NS, NS],
    field: 'objects[1].metadata.name',
    message: /Namespace x appears twice/,
  },
];

describe('readObjects + translate refuse bad input, naming the field', () => {
  for (const c of CASES) {
    it(c.name, () => {
      let err: unknown;
      try {
        importAll(c.objects);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VnpError);
      const e = err as VnpError;
      expect(e.details?.field).toBe(c.field);
      expect(e.message).toMatch(c.message);
      expect(e.message.startsWith(c.field)).toBe(true);
    });
  }

  it('reads kind: List and keeps the item position in errors', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [NS, { ...POD, status: {} }] };
    expect(() => importAll([list])).toThrow(/objects\[0\]\.items\[1\]\.status\.podIP/);
    expect(readObjects([{ ...list, items: [NS] }]).namespaces).toHaveLength(1);
  });

  it('takes vnp Test documents given alongside', () => {
    const t = { kind: 'Test', name: 't', src: 'k8s.x.a', dst: '10.0.0.9', expect: 'allow' };
    expect(readObjects([NS, t]).tests).toEqual([t]);
  });
});
