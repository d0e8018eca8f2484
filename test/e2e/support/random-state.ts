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
