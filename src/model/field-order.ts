/**
 * The documented field order of each kind (docs/api.md, the order of
 * src/model/types.ts): `kind`, `name`, the kind's fields, then the server-set
 * `revision`, `createdAt`, `updatedAt`. Stores hand documents back in their own key
 * order (PostgreSQL's jsonb sorts keys by length); clients print this one.
 */
import type { Kind } from './types.js';

const HEAD = ['kind', 'name'];
const TAIL = ['revision', 'createdAt', 'updatedAt'];

const FIELDS: Record<Kind, readonly string[]> = {
  Subnet: ['cidr', 'vni'],
  Instance: ['host', 'netns'],
  Interface: ['subnet', 'ips', 'mac', 'securityGroups', 'tags', 'instance'],
  Partition: ['selector', 'intra', 'description'],
  Policy: ['priority', 'mode', 'appliesTo', 'ingress', 'egress', 'routes', 'description'],
  Reaction: ['on', 'match', 'addTags', 'removeTags', 'ttl'],
  Settings: ['defaults'],
};

const RULE = ['action', 'from', 'to', 'ports', 'description'];
const ROUTE = ['to', 'ports', 'via'];
const PEER = ['selector', 'partition', 'cidr', 'except'];
const DEFAULTS = ['unpartitioned', 'crossPartition'];

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys in `order` first (those present), then any others as they came. */
function ordered(
  o: Obj,
  order: readonly string[],
  nested: Record<string, (v: unknown) => unknown> = {},
): Obj {
  const out: Obj = {};
  for (const k of order) if (k in o) out[k] = nested[k] ? nested[k](o[k]) : o[k];
  for (const k of Object.keys(o)) if (!(k in out)) out[k] = o[k];
  return out;
}

const peer = (v: unknown): unknown => (isObj(v) ? ordered(v, PEER) : v);
const list =
  (order: readonly string[]) =>
  (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map((r) => (isObj(r) ? ordered(r, order, { from: peer, to: peer }) : r))
      : v;

/**
 * A document with its keys in the documented order (a new object; tags untouched).
 *
 * @example
 *   Object.keys(inFieldOrder('Subnet', { revision: 3, cidr: '10.0.0.0/24', name: 'a', kind: 'Subnet' }))
 *   // ['kind', 'name', 'cidr', 'revision']
 */
export function inFieldOrder<T>(kind: Kind, doc: T): T {
  if (!isObj(doc)) return doc;
  return ordered(doc, [...HEAD, ...FIELDS[kind], ...TAIL], {
    ingress: list(RULE),
    egress: list(RULE),
    routes: list(ROUTE),
    defaults: (v) => (isObj(v) ? ordered(v, DEFAULTS) : v),
  }) as T;
}
