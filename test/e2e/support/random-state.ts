/**
 * Random HostStates for renderer properties: a few local identities, peers,
 * cidr ranges in both families, overlapping port ranges on purpose (the renderer
 * must still produce disjoint elements), all three verdicts, icmp entries.
 */
import type { Rng } from '../../support/rng.js';
import type { HostState, PeerEntry, Protocol, SideState } from './host-state-types.js';

const PROTOS: Protocol[] = ['tcp', 'udp', 'sctp', 'icmp'];
const VERDICTS = ['allow', 'deny', 'log'] as const;

function ports(rng: Rng, proto: Protocol): [number, number] {
  if (proto === 'icmp') return rng.chance(0.5) ? [0, 0] : [0, 65535];
  const lo = rng.int(1, 200);
  return [lo, lo + rng.int(0, 30)];
}

function entry(rng: Rng, i: number) {
  const proto = rng.pick(PROTOS);
  return {
    proto,
    ports: ports(rng, proto) as [number, number],
    verdict: rng.pick(VERDICTS),
    policy: `pol${rng.int(0, 3)}`,
    rule: `egress[${i % 3}]`,
  };
}

function range(rng: Rng): string {
  if (rng.chance(0.3)) return `fd00:${rng.int(0, 3).toString(16)}::/${rng.pick([32, 48, 64])}`;
  const a = rng.int(0, 3);
  if (rng.chance(0.5)) return `10.${a}.0.0/${rng.pick([16, 24])}`;
  return `10.${a}.0.${rng.int(0, 9)}-10.${a}.0.${rng.int(10, 40)}`;
}

/**
 * A random host state with `localCount` local identities (256…).
 *
 * @example randomHostState(makeRng(1), 3)
 */
export function randomHostState(rng: Rng, localCount = 3, revision = 1): HostState {
  const ids = Array.from({ length: localCount }, (_, i) => 256 + i);
  const peerIds = [1, ...ids, 400, 401];
  const sides: SideState[] = [];
  for (const identity of ids) {
    for (const direction of ['egress', 'ingress'] as const) {
      if (rng.chance(0.2)) continue;
      const n = rng.int(0, 12);
      const peers: PeerEntry[] = Array.from({ length: n }, (_, i) => ({
        ...entry(rng, i),
        peer: rng.pick(peerIds),
      }));
      const cidr = Array.from({ length: rng.int(0, 4) }, (_, i) => ({
        ...entry(rng, i),
        range: range(rng),
      }));
      const any = Array.from({ length: rng.int(0, 3) }, (_, i) => entry(rng, i));
      sides.push({ identity, direction, peers, cidr, any });
    }
  }
  return {
    host: 'h1',
    revision,
    locals: ids.map((identity, i) => ({
      name: `r${identity}-${i}`,
      identity,
      ips: [`10.9.0.${i + 1}`, `fd09::${i + 1}`],
      mac: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`,
      subnet: 'net',
      cidr: '10.9.0.0/16',
      instance: `i${i}`,
    })),
    remotes: [
      {
        name: 'remote',
        identity: 400,
        ips: ['10.9.1.1'],
        mac: '02:00:00:00:01:01',
        subnet: 'net',
        host: 'h2',
        underlay: '192.0.2.2',
      },
    ],
    ipcache: [{ ip: '10.9.2.1', identity: 401 }],
    sides,
    defaults: ids.map((identity) => ({
      identity,
      other: rng.pick(['allow', 'deny'] as const),
      peers: rng.chance(0.5)
        ? [{ peer: rng.pick(peerIds), verdict: rng.pick(['allow', 'deny'] as const) }]
        : [],
    })),
  };
}

/** A small random change of a state: one side's entries reshuffled, an identity added or removed. */
export function mutateHostState(rng: Rng, s: HostState): HostState {
  const next = structuredClone(s) as HostState;
  next.revision = s.revision + 1;
  const kind = rng.int(0, 3);
  if (kind === 0 && next.sides.length > 0) {
    const side = rng.pick(next.sides);
    side.peers = side.peers.filter(() => rng.chance(0.6));
    side.peers.push({ ...entry(rng, 0), peer: 1 });
  } else if (kind === 1) {
    const fresh = randomHostState(rng, next.locals.length + 1, next.revision);
    return { ...fresh, locals: fresh.locals };
  } else if (kind === 2 && next.locals.length > 1) {
    const gone = next.locals.pop()!;
    next.sides = next.sides.filter((x) => x.identity !== gone.identity);
  } else {
    next.ipcache.push({ ip: `10.9.3.${rng.int(1, 200)}`, identity: 401 });
    for (const d of next.defaults) d.other = d.other === 'allow' ? 'deny' : 'allow';
  }
  return next;
}

/**
 * A tag change of one local record: it takes a fresh identity (its old one's sides and
 * defaults, one entry fewer, when no other record keeps the old one) or, sometimes,
 * another local record's identity. The record keeps its name, so its chains and maps
 * keep their slot (src/agent/nft/local-slots.ts), or the slot moves to the record
 * first by name.
 *
 * @example retagLocal(makeRng(1), randomHostState(makeRng(1), 3))
 */
export function retagLocal(rng: Rng, s: HostState): HostState {
  const next = structuredClone(s) as HostState;
  next.revision = s.revision + 1;
  if (next.locals.length === 0) return next;
  const record = rng.pick(next.locals);
  const old = record.identity;
  const others = next.locals.filter((r) => r !== record && r.identity !== old);
  const used = new Set([...next.locals, ...next.remotes].map((r) => r.identity));
  let fresh = 600;
  while (used.has(fresh)) fresh++;
  const to = others.length > 0 && rng.chance(0.3) ? rng.pick(others).identity : fresh;
  record.identity = to;
  const oldKept = next.locals.some((r) => r.identity === old);
  if (to === fresh) {
    for (const side of s.sides.filter((x) => x.identity === old)) {
      const peers = side.peers.filter((_, i) => i !== 0);
      next.sides.push({ ...structuredClone(side), identity: to, peers });
    }
    const def = s.defaults.find((d) => d.identity === old);
    if (def) next.defaults.push({ ...structuredClone(def), identity: to });
  }
  if (!oldKept) {
    next.sides = next.sides.filter((x) => x.identity !== old);
    next.defaults = next.defaults.filter((d) => d.identity !== old);
  }
  next.sides.sort((a, b) => a.identity - b.identity || a.direction.localeCompare(b.direction));
  return next;
}
