/**
 * The side maps: per local identity L and direction, one chain (`eg-S`, `in-S`, named
 * by L's slot S, local-slots.ts) and eight verdict maps in the order host-state.ts looks up (cidr per family and its ICMP
 * variant, peers by exact port, by port range and ICMP, any), so the rule count never
 * grows with the number of policy entries. Pure.
 *
 * Peer elements of one port go to a hash map (`-pe`), ranges to an interval map
 * (`-p`): the kernel updates an interval (pipapo) map by copying its whole lookup
 * table, 19 ms per transaction at 100,000 elements against 1 ms at 10, a hash map in
 * constant time (docs/adr/0043-element-batches-and-marked-sweep.md). A group's
 * elements are disjoint, so a flow matches at most one element of the two maps.
 *
 * A side's entries fall into groups whose elements depend on that group alone:
 * cidr entries by (family, protocol), peer entries by (peer, protocol), any entries by
 * protocol. Overlaps are resolved within a group (disjoint.ts), and the elements of two
 * groups never share a key, so a changed entry changes the elements of its group and
 * nothing else (applied-table.ts relies on this).
 */
import type { Direction, SideEntry, SideState } from '../../model/host-state.js';
import type { Family } from '../../model/net.js';
import {
  resolveCells,
  resolveIntervals,
  resolvePorts,
  sameVerdict,
  stricter,
  type Cell,
  type Interval,
  type Verdict,
} from './disjoint.js';
import {
  addr,
  addrSpan,
  COUNTER,
  dport,
  ICMP_PROTOS,
  icmpApplies,
  l4proto,
  mark,
  match,
  parseRange,
  portSpan,
  RETURN,
  vmap,
} from './expressions.js';
import { DENY, ruleDenyName } from './deny-chain.js';
import { element, newSet, type ChainDecl, type Element, type SetDecl } from './table.js';
import type { NftValue } from './types.js';

/** Chain deciding a direction for the local identity in slot `slot` (local-slots.ts). */
export function sideChainName(direction: Direction, slot: string): string {
  return `${direction === 'egress' ? 'eg' : 'in'}-${slot}`;
}

/** Chain that logs then accepts for one deciding rule. */
export function logChainName(policy: string, rule: string): string {
  return `lg-${policy}-${rule.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '')}`;
}

/** The chain a verdict jumps to besides the deny chain (a log or a rule's deny chain), if any. */
export function jumpChainName(verdict: Verdict): string | undefined {
  if (verdict.kind === 'log') return logChainName(verdict.policy, verdict.rule);
  return ruleDenyName(verdict);
}

/** Map of peer identities to the default verdict of the local identity in slot `slot`. */
export function defaultMapName(slot: string): string {
  return `def-${slot}`;
}

/**
 * nft verdict JSON for a resolved verdict of a side chain. Allowed *returns* (the
 * egress side continues with the ingress side in the same base chain; after the ingress
 * side the base chain's policy accepts); a logged verdict is a `goto` to its log chain,
 * which logs and returns likewise; a deny is a `goto` to the host's deny chain
 * (deny-chain.ts: counted, sampled to NFLOG under a rate limit, dropped).
 */
export function verdictJson(verdict: Verdict): NftValue {
  if (verdict.kind === 'allow') return RETURN;
  const target = jumpChainName(verdict);
  return target ? { goto: { target } } : DENY;
}

/**
 * The chain a verdict jumps to ({@link jumpChainName}): a log chain counts, logs and
 * returns; a rule's deny chain counts in its named counter (one listing reads them
 * all) and goes on to the deny chain. Both are reached by `goto`.
 */
export function jumpChain(verdict: Verdict): ChainDecl {
  const deny = ruleDenyName(verdict);
  if (deny) return { name: deny, counters: [deny], rules: [[{ counter: deny }, DENY]] };
  const prefix = `vnp:${verdict.policy}:${verdict.rule} `.slice(0, 127);
  return {
    name: logChainName(verdict.policy, verdict.rule),
    rules: [[COUNTER, { log: { prefix } }]],
  };
}

/**
 * The seven verdict maps of one lookup chain `c`, in the order host-state.ts looks
 * up: cidr (IPv4, IPv6, and their ICMP variants), peers (ports, ICMP), any. Side
 * chains and steering chains share the layout.
 */
export function lookupSets(c: string) {
  return {
    c4: newSet(`${c}-c4`, ['ipv4_addr', 'inet_proto', 'inet_service'], 'verdict', true),
    c6: newSet(`${c}-c6`, ['ipv6_addr', 'inet_proto', 'inet_service'], 'verdict', true),
    c4i: newSet(`${c}-c4i`, 'ipv4_addr', 'verdict', true),
    c6i: newSet(`${c}-c6i`, 'ipv6_addr', 'verdict', true),
    p: newSet(`${c}-p`, ['mark', 'inet_proto', 'inet_service'], 'verdict', true),
    pi: newSet(`${c}-pi`, 'mark', 'verdict'),
    a: newSet(`${c}-a`, ['inet_proto', 'inet_service'], 'verdict', true),
  };
}

const verdictOf = (e: SideEntry): Verdict => ({ kind: e.verdict, policy: e.policy, rule: e.rule });

/** The three entry lists of a side. */
export type SideList = 'cidr' | 'peers' | 'any';
export const SIDE_LISTS: readonly SideList[] = ['cidr', 'peers', 'any'];

/**
 * The group of an entry of `list` (see the file comment), or undefined when the entry
 * makes no map element: an ICMP entry whose range misses 0, an unparsable range, and
 * ICMP entries of `any` (one rule of the side chain, see {@link anyIcmpVerdict}).
 */
export function groupOf(list: SideList, entry: SideEntry): string | undefined {
  if (entry.proto === 'icmp' && (list === 'any' || !icmpApplies(entry))) return undefined;
  if (list === 'peers') return `p/${(entry as SideEntry & { peer: number }).peer}/${entry.proto}`;
  if (list === 'any') return `a/${entry.proto}`;
  const range = parseRange((entry as SideEntry & { range: string }).range);
  return range ? `c/${range.family}/${entry.proto}` : undefined;
}

/** A map element of a side, and the verdict whose chain it jumps to (a log, a rule's deny), if any. */
export interface SideElement extends Element {
  set: string;
  jump?: Verdict;
}

/**
 * The elements of one group of side chain `chain`: its entries made disjoint.
 *
 * @example groupElements('eg-vnp0123456789ab', 'p/257/tcp', entries) // of eg-vnp0123456789ab-p
 */
export function groupElements(
  chain: string,
  group: string,
  entries: Iterable<SideEntry>,
): SideElement[] {
  const [kind, first, proto] = group.split('/') as [string, string, string];
  const out: SideElement[] = [];
  const add = (set: string, key: NftValue, verdict: Verdict): void => {
    out.push({
      ...element(key, verdictJson(verdict)),
      set: `${chain}-${set}`,
      ...(jumpChainName(verdict) !== undefined ? { jump: verdict } : {}),
    });
  };
  if (kind === 'c') {
    const family = Number(first) as Family;
    const cells: Cell[] = [];
    for (const e of entries) {
      const r = parseRange((e as SideEntry & { range: string }).range)!;
      const [plo, phi] = proto === 'icmp' ? [0n, 0n] : [BigInt(e.ports[0]), BigInt(e.ports[1])];
      cells.push({ alo: r.lo, ahi: r.hi, plo, phi, v: verdictOf(e) });
    }
    for (const cell of resolveCells(cells)) {
      const a = addrSpan(family, cell.alo, cell.ahi);
      if (proto === 'icmp') add(family === 4 ? 'c4i' : 'c6i', a, cell.v);
      else
        add(
          family === 4 ? 'c4' : 'c6',
          { concat: [a, proto, portSpan(cell.plo, cell.phi)] },
          cell.v,
        );
    }
    return out;
  }
  const items: Interval<Verdict>[] = [];
  for (const e of entries)
    items.push({ lo: BigInt(e.ports[0]), hi: BigInt(e.ports[1]), v: verdictOf(e) });
  if (kind === 'p') {
    const peer = Number(first);
    if (proto === 'icmp') {
      if (items.length > 0) add('pi', peer, items.map((i) => i.v).reduce(stricter));
      return out;
    }
    for (const i of resolvePorts(items))
      if (i.lo === i.hi) add('pe', { concat: [peer, proto, Number(i.lo)] }, i.v);
      else add('p', { concat: [peer, proto, portSpan(i.lo, i.hi)] }, i.v);
    return out;
  }
  for (const i of resolveIntervals(items, stricter, sameVerdict))
    add('a', { concat: [first, portSpan(i.lo, i.hi)] }, i.v);
  return out;
}

/**
 * The entries of a side by group, in their order.
 *
 * @example groupSide(side).get('p/257/tcp') // the tcp entries for peer 257
 */
export function groupSide(side: SideState): Map<string, SideEntry[]> {
  const groups = new Map<string, SideEntry[]>();
  for (const list of SIDE_LISTS)
    for (const e of side[list]) {
      const g = groupOf(list, e);
      if (g === undefined) continue;
      const entries = groups.get(g);
      if (entries) entries.push(e);
      else groups.set(g, [e]);
    }
  return groups;
}

/** The verdict of ICMP by any peer: one rule of the side chain, not a map element. */
export function anyIcmpVerdict(side: SideState | undefined): Verdict | undefined {
  let found: Verdict | undefined;
  for (const e of side?.any ?? [])
    if (e.proto === 'icmp' && icmpApplies(e))
      found = found ? stricter(found, verdictOf(e)) : verdictOf(e);
  return found;
}

/**
 * The side chain of (L in slot `slot`, direction): one lookup per map, the ICMP-by-any
 * rule, the default map, then the counted default verdict `other`.
 */
export function sideChain(
  slot: string,
  direction: Direction,
  anyIcmp: Verdict | undefined,
  other: Verdict,
): ChainDecl {
  const name = sideChainName(direction, slot);
  const field = direction === 'egress' ? 'daddr' : 'saddr';
  const set = (suffix: string) => `${name}-${suffix}`;
  const rules: NftValue[][] = [
    [vmap({ concat: [addr(4, field), l4proto, dport] }, set('c4'))],
    [vmap({ concat: [addr(6, field), l4proto, dport] }, set('c6'))],
    [match(l4proto, 'icmp'), vmap(addr(4, field), set('c4i'))],
    [match(l4proto, 'ipv6-icmp'), vmap(addr(6, field), set('c6i'))],
    [vmap({ concat: [mark, l4proto, dport] }, set('pe'))],
    [vmap({ concat: [mark, l4proto, dport] }, set('p'))],
    [match(l4proto, ICMP_PROTOS), vmap(mark, set('pi'))],
    [vmap({ concat: [l4proto, dport] }, set('a'))],
    ...(anyIcmp ? [[match(l4proto, ICMP_PROTOS), verdictJson(anyIcmp)]] : []),
    [vmap(mark, defaultMapName(slot))],
    // Counted, so `nft list chain` shows how much traffic the default decided.
    [COUNTER, verdictJson(other)],
  ];
  return { name, rules };
}

/** The eight (empty) maps of a side chain: the lookup maps and the exact-port peer map. */
export function sideSets(slot: string, direction: Direction): SetDecl[] {
  const c = sideChainName(direction, slot);
  const { p, ...rest } = lookupSets(c);
  const pe = newSet(`${c}-pe`, ['mark', 'inet_proto', 'inet_service'], 'verdict');
  return [...Object.values(rest).slice(0, 4), pe, p, ...Object.values(rest).slice(4)];
}
