/**
 * Whether a rule can never decide a flow (design.md §2.1: `apply` warns of every such
 * rule, naming the rule that shadows it). Exact over the resolved tables, sound over
 * peers: a rule is shadowed only when, for EVERY peer it can match — any record with
 * any tags and any address, present or future, and any address outside every record —
 * and every port it covers, an earlier rule in precedence order provably matches too.
 *
 * The check paints the candidates and the rule, in precedence order, into the same
 * disjoint address × port tables the engine decides with (buildAddressTable,
 * paintPorts): the rule is shadowed iff it decides no cell of its own footprint. A
 * candidate's footprint is what it provably matches of the rule's peers:
 *
 * | candidate peer          | rule peer any / cidr        | rule peer selector / partition            |
 * | ----------------------- | --------------------------- | ----------------------------------------- |
 * | any                     | every address               | every address                             |
 * | cidr (less `except`)    | its addresses               | its addresses (records can sit anywhere)  |
 * | selector / partition    | nothing (outside addresses) | every address, iff the rule's selector    |
 * |                         |                             | provably implies the candidate's          |
 *
 * The rule's own footprint: its cidr ranges, else every address (a record can hold
 * any address). Selector implication is structural (src/selector/implies.ts), so a
 * shadow it cannot prove is not reported — never the other way round.
 */
import type { Partition } from '../../model/types.js';
import { parseSelectorCached, selectorImplies } from '../../selector/index.js';
import { buildAddressTable, type AddressRange } from '../compile/address-table.js';
import type { CompiledRule } from '../compile/compiled-rule.js';
import type { PortSpan } from '../compile/port-table.js';

/** Every IPv4 and every IPv6 address. */
export const EVERY_ADDRESS: readonly AddressRange[] = [
  { family: 4, lo: 0n, hi: (1n << 32n) - 1n },
  { family: 6, lo: 0n, hi: (1n << 128n) - 1n },
];

/**
 * Whether every record that `inner`'s peer (selector or partition) can match is matched
 * by `outer`'s peer (selector or partition), for every tag set.
 */
export type PeerImplies = (inner: CompiledRule, outer: CompiledRule) => boolean;

/**
 * The earlier rules that decide every flow `rule` can match, in precedence order (empty
 * when the rule matches no address at all: a cidr wholly excepted), or undefined when
 * some flow would be decided by `rule`.
 *
 * @param earlier enforce rules of the same direction that precede `rule` in precedence
 *   order and provably apply wherever `rule` applies, in precedence order.
 */
export function shadowingRules(
  rule: CompiledRule,
  earlier: readonly CompiledRule[],
  peerImplies: PeerImplies,
): CompiledRule[] | undefined {
  const own = rule.peer.kind === 'cidr' ? rule.peer.ranges : EVERY_ADDRESS;
  if (own.length === 0) return [];
  const picked: CompiledRule[] = [];
  const ranges: (readonly AddressRange[])[] = [];
  for (const e of earlier) {
    if (!spansOverlap(e.spans, rule.spans)) continue;
    const cover = footprintFor(e, rule, peerImplies);
    if (cover.length === 0) continue;
    picked.push(e);
    ranges.push(cover);
    // Rules after one that alone covers everything can decide nothing of `rule`'s.
    if (rangesCover(cover, own) && spansContain(e.spans, rule.spans)) break;
  }
  if (picked.length === 0) return undefined;
  const self = picked.length;
  const table = buildAddressTable([...ranges, own], [...picked.map((e) => e.spans), rule.spans]);
  const deciders = new Set<number>();
  for (const seg of table.segments()) {
    if (!seg.rules.includes(self)) continue;
    for (const p of seg.ports.segments()) {
      if (p.value === self) return undefined;
      if (rule.spans.some((span) => span.proto === p.proto && span.lo <= p.hi && p.lo <= span.hi))
        deciders.add(p.value);
    }
  }
  return [...deciders].sort((a, b) => a - b).map((i) => picked[i]!);
}

/** What `e` provably matches of the peers `rule` can match, as addresses (see the table above). */
function footprintFor(
  e: CompiledRule,
  rule: CompiledRule,
  peerImplies: PeerImplies,
): readonly AddressRange[] {
  if (e.peer.kind === 'any') return EVERY_ADDRESS;
  if (e.peer.kind === 'cidr') return e.peer.ranges;
  const recordsOnly = rule.peer.kind === 'selector' || rule.peer.kind === 'partition';
  return recordsOnly && peerImplies(rule, e) ? EVERY_ADDRESS : [];
}

/**
 * PeerImplies over selector texts: a partition peer stands for its partition's
 * selector (membership is that selector matching, design.md §1), a selector for itself.
 * Memoized per pair of texts.
 */
export function peerImplication(
  partitionSelector: (name: string) => string | undefined,
): PeerImplies {
  const memo = new Map<string, boolean>();
  const textOf = (r: CompiledRule): string | undefined =>
    r.peer.kind === 'selector'
      ? r.peer.entry.text
      : r.peer.kind === 'partition'
        ? partitionSelector(r.peer.name)
        : undefined;
  return (inner, outer) => {
    if (inner.peer.kind === 'partition' && outer.peer.kind === 'partition')
      if (inner.peer.name === outer.peer.name) return true;
    const a = textOf(inner);
    const b = textOf(outer);
    if (a === undefined || b === undefined) return false;
    return selectorTextImplies(a, b, memo);
  };
}

/** `selectorImplies` over texts, memoized in `memo`. */
export function selectorTextImplies(a: string, b: string, memo: Map<string, boolean>): boolean {
  if (a === b) return true;
  const key = `${a}\u0000${b}`;
  let v = memo.get(key);
  if (v === undefined) {
    v = selectorImplies(parseSelectorCached(a), parseSelectorCached(b));
    memo.set(key, v);
  }
  return v;
}

/** PeerImplies for a list of partition documents. */
export function partitionPeerImplication(partitions: readonly Partition[]): PeerImplies {
  const byName = new Map(partitions.map((p) => [p.name, p.selector]));
  return peerImplication((name) => byName.get(name));
}

function spansOverlap(a: readonly PortSpan[], b: readonly PortSpan[]): boolean {
  return a.some((x) => b.some((y) => x.proto === y.proto && x.lo <= y.hi && y.lo <= x.hi));
}

/** True when the union of `outer` covers every span of `inner`. */
export function spansContain(outer: readonly PortSpan[], inner: readonly PortSpan[]): boolean {
  return inner.every((span) => {
    let next = span.lo;
    for (const o of outer.filter((x) => x.proto === span.proto).sort((a, b) => a.lo - b.lo)) {
      if (o.lo > next) break;
      if (o.hi >= next) next = o.hi + 1;
      if (next > span.hi) return true;
    }
    return next > span.hi;
  });
}

/** True when the union of `outer` covers every range of `inner`. */
export function rangesCover(
  outer: readonly AddressRange[],
  inner: readonly AddressRange[],
): boolean {
  return inner.every((r) => {
    let next = r.lo;
    for (const o of outer
      .filter((x) => x.family === r.family)
      .sort((x, y) => (x.lo < y.lo ? -1 : 1))) {
      if (o.lo > next) break;
      if (o.hi >= next) next = o.hi + 1n;
      if (next > r.hi) return true;
    }
    return next > r.hi;
  });
}
