/**
 * The steering scenario of the datapath conformance suite (docs/adr/0008-steering.md,
 * 0041-ovs-steering.md) as documents: sources, destinations and middleboxes spread so
 * that every path crosses hosts — a via record beside the source (fwl), one on another
 * host (fw), one on a third host that sends the traffic back to the source's host
 * (fw3), a second source on another host (src2), and IPv6 across three hosts (src6,
 * fw6, dst6). The destinations refuse the middleboxes: steered traffic passes only
 * when their ingress sees the source.
 */
import type { Document, SteeringRoute } from '../../../src/model/types.js';

/** Steering records: name → [host, address, app tag]. */
export const STEER_RECORDS = {
  src: { host: 'h1', ip: '10.21.0.1', app: 'src' },
  fwl: { host: 'h1', ip: '10.21.0.11', app: 'fw' },
  dst2: { host: 'h1', ip: '10.21.0.4', app: 'dst' },
  fw: { host: 'h2', ip: '10.21.0.10', app: 'fw' },
  src2: { host: 'h2', ip: '10.21.0.2', app: 'src2' },
  fw3: { host: 'h3', ip: '10.21.0.12', app: 'fw' },
  dst: { host: 'h3', ip: '10.21.0.3', app: 'dst' },
  src6: { host: 'h1', ip: 'fd21::1', app: 'src6' },
  fw6: { host: 'h2', ip: 'fd21::10', app: 'fw' },
  dst6: { host: 'h3', ip: 'fd21::3', app: 'dst' },
} as const;

export type SteerRecord = keyof typeof STEER_RECORDS;

/** The middleboxes. */
export const MIDDLEBOXES = ['fw', 'fwl', 'fw3', 'fw6'] as const;

export const STEERED = 8080;
export const DENIED = 7000;
export const OTHER = 9090;
export const STEER_PORTS = [STEERED, DENIED, OTHER];

/**
 * The destinations (`app == "dst"`) refuse the middleboxes outright, and `src` on
 * DENIED: steered traffic passes only if their ingress sees the source's identity.
 */
export function refuseMiddleboxes(): Document {
  return {
    kind: 'Policy',
    name: 'dst-in',
    priority: 100,
    appliesTo: 'app == "dst"',
    ingress: [
      { action: 'deny', from: { selector: 'app == "fw"' } },
      { action: 'deny', from: { selector: 'app == "src"' }, ports: [`tcp/${DENIED}`] },
    ],
    egress: [],
    routes: [],
    mode: 'enforce',
  };
}

/** A route of the `steer` policy (source `src`) to `to` through `via`. */
export const routeTo = (to: 'dst' | 'dst2', via: string): SteeringRoute => ({
  to: { cidr: `${STEER_RECORDS[to].ip}/32` },
  ports: [`tcp/${STEERED}`, `tcp/${DENIED}`, 'icmp'],
  via,
});

/** The policy steering `src`'s traffic by `routes`. */
export function steerPolicy(routes: SteeringRoute[]): Document {
  return {
    kind: 'Policy',
    name: 'steer',
    priority: 10,
    appliesTo: 'app == "src"',
    ingress: [],
    egress: [],
    routes,
    mode: 'enforce',
  };
}

/**
 * The documents; `instanceNs` names each instance's namespace.
 *
 * @example engine.load([...modelDocs(ns), ...steerDocs(ns)], 0)
 */
export function steerDocs(instanceNs: (name: string) => string): Document[] {
  const docs: Document[] = [
    { kind: 'Subnet', name: 'steer-net', cidr: '10.21.0.0/24', vni: 21 },
    { kind: 'Subnet', name: 'steer-net6', cidr: 'fd21::/64' },
  ];
  for (const [name, r] of Object.entries(STEER_RECORDS))
    docs.push(
      { kind: 'Instance', name: `vm-${name}`, host: r.host, netns: instanceNs(name) },
      {
        kind: 'Interface',
        name,
        subnet: r.ip.includes(':') ? 'steer-net6' : 'steer-net',
        ips: [r.ip],
        instance: `vm-${name}`,
        tags: { app: r.app },
      },
    );
  docs.push({
    kind: 'Policy',
    name: 'steer6',
    priority: 10,
    appliesTo: 'app == "src6"',
    ingress: [],
    egress: [],
    routes: [
      { to: { cidr: `${STEER_RECORDS.dst6.ip}/128` }, ports: [`tcp/${STEERED}`], via: 'fw6' },
    ],
    mode: 'enforce',
  });
  docs.push(refuseMiddleboxes(), steerPolicy([routeTo('dst', 'fw'), routeTo('dst2', 'fw3')]), {
    kind: 'Policy',
    name: 'steer2',
    priority: 10,
    appliesTo: 'app == "src2"',
    ingress: [],
    egress: [],
    routes: [{ to: { selector: 'app == "dst"' }, ports: [`tcp/${STEERED}`, 'icmp'], via: 'fw3' }],
    mode: 'enforce',
  });
  return docs;
}
