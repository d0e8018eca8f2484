/**
 * The datapath scenario: four records on three hosts and the policies the
 * tests switch between, as HostStates per host.
 */
import type { DefaultState, HostState, SideState } from './host-state-types.js';
import { hostStateOf, peerEntry, type PlacedRecord } from './host-states.js';
import type { Topology } from './topology.js';

export const ID = { a: 256, b: 257, c: 258, d: 259, quarantined: 300 } as const;
export const PORT_OK = 8080;
export const PORT_OTHER = 9090;

/** Records: a and d on h1, b on h2, c on h3. */
export function records(
  topo: Topology,
  overrides: Partial<Record<'a' | 'b' | 'c' | 'd', Partial<PlacedRecord> | null>> = {},
): PlacedRecord[] {
  const base: Record<'a' | 'b' | 'c' | 'd', PlacedRecord> = {
    a: {
      name: 'a',
      identity: ID.a,
      ips: ['10.10.0.1', 'fd10::1'],
      host: 'h1',
      netns: topo.instanceNs('a'),
    },
    b: {
      name: 'b',
      identity: ID.b,
      ips: ['10.10.0.2', 'fd10::2'],
      host: 'h2',
      netns: topo.instanceNs('b'),
    },
    c: { name: 'c', identity: ID.c, ips: ['10.10.0.3'], host: 'h3', netns: topo.instanceNs('c') },
    d: { name: 'd', identity: ID.d, ips: ['10.10.0.4'], host: 'h1', netns: topo.instanceNs('d') },
  };
  return (Object.keys(base) as ('a' | 'b' | 'c' | 'd')[]).flatMap((k) => {
    const o = overrides[k];
    if (o === null) return [];
    return [{ ...base[k], ...(o ?? {}) }];
  });
}

/**
 * Baseline policy: default deny everywhere; a may reach b, c and d on tcp/8080 and
 * ping b; b and d accept a on tcp/8080 (and b accepts a's ping, logged); c accepts
 * nothing, so a→c dies at c's ingress (identity from the GBP mark); a's ping to d
 * (same host) is logged by a's egress and denied by d's ingress.
 */
export function baselineSides(): SideState[] {
  return [
    {
      identity: ID.a,
      direction: 'egress',
      cidr: [],
      peers: [
        peerEntry(ID.b, 'tcp', PORT_OK, PORT_OK, 'allow', 'web', 'egress[0]'),
        peerEntry(ID.b, 'icmp', 0, 0, 'allow', 'web', 'egress[1]'),
        peerEntry(ID.c, 'tcp', PORT_OK, PORT_OK, 'allow', 'web', 'egress[0]'),
        peerEntry(ID.d, 'tcp', PORT_OK, PORT_OK, 'allow', 'web', 'egress[0]'),
        // Logged at a's egress, then denied by d's ingress on the same host.
        peerEntry(ID.d, 'icmp', 0, 0, 'log', 'web', 'egress[2]'),
      ],
      any: [],
    },
    {
      identity: ID.b,
      direction: 'ingress',
      cidr: [],
      peers: [
        peerEntry(ID.a, 'tcp', PORT_OK, PORT_OK, 'allow', 'api', 'ingress[0]'),
        peerEntry(ID.a, 'icmp', 0, 0, 'log', 'api', 'ingress[1]'),
      ],
      any: [],
    },
    {
      identity: ID.d,
      direction: 'ingress',
      cidr: [],
      peers: [peerEntry(ID.a, 'tcp', PORT_OK, PORT_OK, 'allow', 'db', 'ingress[0]')],
      any: [],
    },
  ];
}

/** Default deny for every identity. */
export function denyDefaults(): DefaultState[] {
  return Object.values(ID).map((identity) => ({ identity, other: 'deny' as const, peers: [] }));
}

/** HostStates of every host of the topology at a revision. */
export function statesFor(
  topo: Topology,
  revision: number,
  recs: PlacedRecord[],
  sides: SideState[],
  defaults = denyDefaults(),
): Map<string, HostState> {
  const underlay = Object.fromEntries(topo.hosts.map((h) => [h.name, h.underlayIp]));
  return new Map(
    topo.hosts.map((h) => [h.name, hostStateOf(h.name, revision, recs, sides, defaults, underlay)]),
  );
}
