/**
 * Who may reach a record: the behaviour classes (./behaviour-classes.ts) of one
 * engine whose flows to it are allowed, with the allowed ports. Pure.
 */
import { VnpError } from '../../model/errors.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import { formatIp, parseIp, type Cidr } from '../../model/net.js';
import type { Interface, Protocol, Tags } from '../../model/types.js';
import type { Engine } from '../engine.js';
import {
  cidrPeers,
  endpoint,
  recordClasses,
  signature,
  table,
  worldClasses,
  type CidrPeer,
  type Klass,
  type Side,
} from './behaviour-classes.js';

/** Who may reach a destination: one entry per behaviour class with its allowed ports. */
export interface ReachEntry {
  identity: number;
  tags: Tags;
  records: number;
  examples: string[];
  /** For outside addresses: the representative address and the CIDR peers holding it. */
  address?: string;
  cidrs?: string[];
  /** Allowed port ranges (after the proto/port filter). */
  allowed: { proto: Protocol; ports: [number, number] }[];
}

/**
 * The identities (with their records) and outside-address classes allowed to
 * reach record `dst` (a name or an address it holds), optionally for one
 * protocol/port. Sorted by records, most first.
 *
 * @example
 *   whoCanReach(engine, 'db-1', { proto: 'tcp', port: 5432 })
 *   // [{ identity: 300, tags: { app: 'web' }, records: 12, examples: ['web-1', …], allowed: [{ proto: 'tcp', ports: [5432, 5432] }] }]
 */
type ReachOptions = { proto?: Protocol; port?: number; examples?: number };

export function whoCanReach(engine: Engine, dst: string, opts: ReachOptions = {}): ReachEntry[] {
  const { recordName, target } = reachTarget(engine, dst);
  const peers = cidrPeers([engine]);
  const classes = recordClasses(engine, engine, peers).filter(
    (k) => !(k.names.length === 1 && k.names[0] === recordName),
  );
  const out: ReachEntry[] = [];
  for (const k of [...classes, ...outsideClasses(engine, peers)]) {
    const entry = reachEntry(k, target, peers, opts);
    if (entry) out.push(entry);
  }
  // Same-class records other than the destination reach it like their class.
  return out.sort((a, b) => b.records - a.records || a.identity - b.identity);
}

/** The destination record and its side; an address outside every record is refused. */
function reachTarget(engine: Engine, dst: string): { recordName: string; target: Side } {
  // The source is any outside address: only dst is resolved (and named in errors).
  const check = engine.check({ src: '203.0.113.254', dst, protocol: 'tcp', port: 1 });
  const recordName = check.dst.record;
  const doc = recordName
    ? (engine.get('Interface', recordName) as unknown as Interface)
    : undefined;
  if (!recordName || !doc) {
    throw new VnpError(
      'VNP_ERR_UNKNOWN_ENDPOINT',
      `dst: "${dst}" is an address outside every record`,
      {
        field: 'dst',
        expected: 'a record name or an address a record holds',
      },
    );
  }
  const identity = engine.recordIdentity(recordName)!;
  return { recordName, target: { engine, identity, ip: parseIp(doc.ips[0]!)! } };
}

/** The outside-address classes, plus one address of each family no CIDR peer holds. */
function outsideClasses(engine: Engine, peers: CidrPeer[]): Klass[] {
  const world = worldClasses(engine, engine, peers);
  for (const text of ['203.0.113.254', '2001:db8::fffe']) {
    const ip = parseIp(text)!;
    const side: Side = { engine, identity: IDENTITY_WORLD, ip };
    if (signature(peers, ip) === '')
      world.push({
        key: `other|${text}`,
        before: side,
        after: side,
        names: [text],
        world: true,
        asSrc: false,
        asDst: false,
        status: 'same',
      });
  }
  return world;
}

/** A class's entry when some of its flows to `target` are allowed (after the filter). */
function reachEntry(
  k: Klass,
  target: Side,
  peers: CidrPeer[],
  opts: ReachOptions,
): ReachEntry | undefined {
  const allowed = (table(k.after, target) ?? [])
    .filter((segment) => segment.verdict === 'allow')
    .filter((segment) => opts.proto === undefined || segment.proto === opts.proto)
    .filter(
      (segment) =>
        opts.port === undefined ||
        segment.proto === 'icmp' ||
        (segment.lo <= opts.port && opts.port <= segment.hi),
    )
    .map((segment) => ({
      proto: segment.proto,
      ports: [segment.lo, segment.hi] as [number, number],
    }));
  if (allowed.length === 0) return undefined;
  const ep = endpoint(k, opts.examples ?? 5);
  const cidrs = () =>
    peers
      .filter((p) => signature([p], k.after!.ip) !== '')
      .map((p) =>
        [formatCidrText(p.cidr), ...p.except.map((x) => `except ${formatCidrText(x)}`)].join(' '),
      );
  return {
    identity: ep.identity,
    tags: ep.tags,
    records: ep.records,
    examples: ep.examples,
    ...(ep.address !== undefined ? { address: ep.address, cidrs: cidrs() } : {}),
    allowed,
  };
}

function formatCidrText(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}
