/**
 * The hand-written steering model the route tests share: subnet `net`
 * (10.0.0.0/24), instances i1..i3 on hosts h1..h3, a source `web` (h1), a
 * destination `db` (h3) and two via records `fw-a`, `fw-b` (h2); policies that apply
 * to `app == "web"` and carry only routes.
 */
import type { Document, Policy, SteeringRoute } from '../../src/model/types.js';

/**
 * An interface record tagged `app`, attached when `instance` is given.
 *
 * @example steerIface('fw-b', '10.0.0.11', 'fw', 'i2')
 */
export function steerIface(name: string, ip: string, app: string, instance?: string): Document {
  return {
    kind: 'Interface',
    name,
    subnet: 'net',
    ips: [ip],
    tags: { app },
    ...(instance ? { instance } : {}),
  };
}

/**
 * A policy for `app == "web"` with these routes and no rules.
 *
 * @example routePolicy('p', 100, [{ to: { selector: 'app == "db"' }, via: 'fw-b' }])
 */
export function routePolicy(
  name: string,
  priority: number,
  routes: SteeringRoute[],
  extra: Partial<Policy> = {},
): Document {
  return {
    kind: 'Policy',
    name,
    priority,
    appliesTo: 'app == "web"',
    ingress: [],
    egress: [],
    routes,
    mode: 'enforce',
    ...extra,
  } as Document;
}

/** The shared model: subnet, three instances on h1..h3, web, db, fw-a, fw-b. */
export const STEERING_DOCS: readonly Document[] = [
  { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/24' },
  ...['h1', 'h2', 'h3'].map((host, i): Document => ({ kind: 'Instance', name: `i${i + 1}`, host })),
  steerIface('web', '10.0.0.1', 'web', 'i1'),
  steerIface('db', '10.0.0.3', 'db', 'i3'),
  steerIface('fw-a', '10.0.0.10', 'fw', 'i2'),
  steerIface('fw-b', '10.0.0.11', 'fw', 'i2'),
];
