/**
 * The data-plane benchmark's policies: two records (a on h1, b on h2) and sides
 * carrying N peer entries (filler peer identities × ports, plus the entries that
 * allow the measured flows), as vnp HostStates and as the naive linear nftables
 * rule list with the same entries.
 */
import type { HostDelta } from '../src/model/host-delta.js';
import type { HostState, PeerEntry, SideState } from '../src/model/host-state.js';
import { hostStateOf, peerEntry, type PlacedRecord } from '../test/e2e/support/host-states.js';

export const ID_A = 256;
export const ID_B = 257;
export const IP_A = '10.10.0.1';
export const IP_B = '10.10.0.2';
/** iperf3 and the connection-rate listener. */
export const PORT_IPERF = 5201;
export const PORT_CONN = 8080;
/** Filler entries: peers from this identity on, ports from this port on (never the flows'). */
const FILLER_ID = 1000;
const FILLER_PORT = 20_000;
const PORTS_PER_PEER = 100;
/** One-entry changes use ports from here (outside the filler range). */
const CHANGE_PORT = 40_000;

/** Records a (h1) and b (h2) in their instance namespaces. */
export function benchRecords(instanceNs: (name: string) => string): PlacedRecord[] {
  return [
    { name: 'a', identity: ID_A, ips: [IP_A], host: 'h1', netns: instanceNs('a') },
    { name: 'b', identity: ID_B, ips: [IP_B], host: 'h2', netns: instanceNs('b') },
  ];
}

/** Address standing for filler peer identity `id` in the linear baseline. */
export function fillerIp(id: number): string {
  const i = id - FILLER_ID;
  return `10.200.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * `n` peer entries of a side: n − 2 fillers (peer identities × 100 ports, disjoint)
 * then the two entries allowing the measured flows with `flowPeer` — last, which is
 * the worst case for a linear list and irrelevant for vnp's maps.
 *
 * @example sideEntries(10_000, ID_B).length // 10000
 */
export function sideEntries(n: number, flowPeer: number): PeerEntry[] {
  const fillers = Math.max(0, n - 2);
  const out: PeerEntry[] = [];
  for (let i = 0; i < fillers; i++) {
    const peer = FILLER_ID + Math.floor(i / PORTS_PER_PEER);
    const port = FILLER_PORT + (i % PORTS_PER_PEER);
    out.push(peerEntry(peer, 'tcp', port, port, 'allow', 'bench', 'egress[0]'));
  }
  out.push(peerEntry(flowPeer, 'tcp', PORT_IPERF, PORT_IPERF, 'allow', 'bench', 'egress[1]'));
  out.push(peerEntry(flowPeer, 'tcp', PORT_CONN, PORT_CONN, 'allow', 'bench', 'egress[2]'));
  return out;
}

/** Peer entries in the order the engine sends them: by peer (stable). */
const byPeer = (entries: PeerEntry[]): PeerEntry[] => entries.sort((x, y) => x.peer - y.peer);

/** a's egress side and b's ingress side, `n` entries each, peers in the engine's order. */
export function benchSides(n: number): SideState[] {
  const side = (identity: number, direction: 'egress' | 'ingress', peer: number): SideState => ({
    identity,
    direction,
    cidr: [],
    peers: byPeer(sideEntries(n, peer)),
    any: [],
  });
  return [side(ID_A, 'egress', ID_B), side(ID_B, 'ingress', ID_A)];
}

/** The one entry of the k-th one-entry change (on a's egress side; its peer has no other). */
const changeEntry = (port: number): PeerEntry =>
  peerEntry(FILLER_ID - 1, 'tcp', port, port, 'allow', 'bench', 'egress[3]');

/**
 * The one-entry change as a manager that sends side patches (docs/adr/0045) delivers it
 * to an agent holding `state`: the k-th change adds the entry when `k` is even, and
 * removes it again when odd. Folded with applyHostDelta, the next state shares every
 * other entry with `state`, as the agent's own fold does.
 *
 * @example applyHostDelta(state, oneEntryPatch(state, 0)) // one entry more on a's egress side
 */
export function oneEntryPatch(state: HostState, k: number): HostDelta {
  return {
    from: state.revision,
    to: state.revision + 1,
    sidePatches: [
      {
        identity: ID_A,
        direction: 'egress',
        peers: [FILLER_ID - 1],
        entries: k % 2 === 0 ? [changeEntry(changePort(k))] : [],
      },
    ],
  };
}

/**
 * HostStates of h1 and h2 with `n` entries per side (default deny), optionally with
 * one extra entry on a's egress side (a one-entry change).
 *
 * @example benchStates(recs, underlay, 10_000, 1).get('h1')
 */
export function benchStates(
  records: PlacedRecord[],
  underlay: Record<string, string>,
  n: number,
  revision: number,
  extraPort?: number,
): Map<string, HostState> {
  const sides = benchSides(n);
  if (extraPort !== undefined)
    sides[0]!.peers = byPeer([...sides[0]!.peers, changeEntry(extraPort)]);
  const defaults = [ID_A, ID_B].map((identity) => ({
    identity,
    other: 'deny' as const,
    peers: [],
  }));
  return new Map(
    ['h1', 'h2'].map((h) => [h, hostStateOf(h, revision, records, sides, defaults, underlay)]),
  );
}

/**
 * HostStates of h1 and h2 with no policy at all: empty sides, and the defaults
 * the engine gives unpartitioned records (`defaults.unpartitioned`: allow). The
 * agent's table is loaded (stateful, marks, GBP) but decides nothing by rule; this
 * is the target's "same path with no policy" (datapath-states.test.ts checks it
 * against the engine).
 *
 * @example noPolicyStates(recs, underlay, 1).get('h2')!.defaults[0]!.other // 'allow'
 */
export function noPolicyStates(
  records: PlacedRecord[],
  underlay: Record<string, string>,
  revision: number,
): Map<string, HostState> {
  const ids = [ID_A, ID_B];
  const defaults = ids.map((identity) => ({ identity, other: 'allow' as const, peers: [] }));
  const sides = ids.flatMap((identity) =>
    (['egress', 'ingress'] as const).map((direction) => ({
      identity,
      direction,
      cidr: [],
      peers: [],
      any: [],
    })),
  );
  return new Map(
    ['h1', 'h2'].map((h) => [h, hostStateOf(h, revision, records, sides, defaults, underlay)]),
  );
}

/** Port of the k-th one-entry change. */
export function changePort(k: number): number {
  return CHANGE_PORT + k;
}

/** Name of the linear baseline's table (never `inet vnp`). */
export const LINEAR_TABLE = 'vnpbench';

/**
 * Conntrack without policy: a forward chain with only `ct state established,related
 * accept` and policy accept. A namespace without any ct rule runs no conntrack at all,
 * so this separates the price of being stateful from the price of the policy.
 *
 * @example conntrackOnlyRuleset() // "table inet vnpbench { … }"
 */
export function conntrackOnlyRuleset(): string {
  return [
    `table inet ${LINEAR_TABLE} {`,
    '  chain linear {',
    '    type filter hook forward priority 0; policy accept;',
    '    ct state established,related accept',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The naive baseline as an `nft -f` script: one stateful forward chain with one
 * `ip saddr … ip daddr … tcp dport … accept` rule per entry of the host's side
 * (the measured flows' rules last), policy drop.
 *
 * @example linearRuleset('h1', 10_000) // "table inet vnpbench { chain fwd { … } }"
 */
export function linearRuleset(host: 'h1' | 'h2', n: number): string {
  const egress = host === 'h1';
  const entries = sideEntries(n, egress ? ID_B : ID_A);
  const lines = [
    `table inet ${LINEAR_TABLE} {`,
    '  chain linear {',
    '    type filter hook forward priority 0; policy drop;',
    '    ct state established,related accept',
  ];
  const self = egress ? IP_A : IP_B;
  for (const e of entries) {
    const peerIp = e.peer >= FILLER_ID ? fillerIp(e.peer) : egress ? IP_B : IP_A;
    const [src, dst] = egress ? [self, peerIp] : [peerIp, self];
    lines.push(`    ip saddr ${src} ip daddr ${dst} tcp dport ${e.ports[0]} accept`);
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}
