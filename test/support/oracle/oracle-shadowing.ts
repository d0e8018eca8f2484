/**
 * The reference's `shadowed` (design.md §2.1, docs/semantics.md "Rules that can never
 * decide"), written independently of src/engine/warnings/shadowing.ts: an enforce rule is
 * shadowed when, for every peer it can match (any record with any tags and any
 * address, present or future, and any address outside every record) and every port it
 * covers, an earlier enforce rule matches too.
 *
 * Addresses and ports are cut into elementary cells at every range boundary of the
 * rules involved; every cell of the rule's own footprint must lie inside the footprint
 * of one earlier rule. An earlier rule's footprint, as far as this rule's peers go:
 * any peer → every address; cidr → its range less exceptions; selector or partition →
 * every address when this rule's peer is a selector or partition whose selector
 * provably implies the earlier one's (a partition stands for its selector), else none
 * (it never matches an outside address).
 */
import { parseSelector, selectorImplies } from '../../../src/selector/index.js';
import { PROTOCOLS } from '../../../src/model/types.js';
import type { ResolvedRule } from '../../../src/engine/index.js';
import type { OracleModel } from './oracle-model.js';
import { cidrPeerSet, portSpecRanges, type PortSpecRange } from './oracle-net.js';

type Peer = ResolvedRule['peer'];

/** An inclusive address interval. */
interface Cell {
  family: 4 | 6;
  lo: bigint;
  hi: bigint;
}

const EVERY: readonly Cell[] = [
  { family: 4, lo: 0n, hi: 2n ** 32n - 1n },
  { family: 6, lo: 0n, hi: 2n ** 128n - 1n },
];

/**
 * Whether `rule` can never decide, given the rules before it (all of which apply to the
 * same local record).
 *
 * @example oracleShadowed(model, denyWebTcp443, [denyAllTcp]) // true
 */
export function oracleShadowed(
  model: OracleModel,
  rule: ResolvedRule,
  earlier: readonly ResolvedRule[],
): boolean {
  if (rule.mode !== 'enforce') return false;
  const own = footprint(rule.peer);
  const ports = portRanges(rule.ports);
  const covers = earlier
    .filter((e) => e.mode === 'enforce')
    .map((e) => ({ addresses: coverOf(model, e.peer, rule.peer), ports: portRanges(e.ports) }))
    .filter((c) => c.addresses.length > 0);
  for (const family of [4, 6] as const) {
    const mine = own.filter((c) => c.family === family);
    if (mine.length === 0) continue;
    const theirs = covers.map((c) => c.addresses.filter((a) => a.family === family));
    for (const cell of cutAddresses(mine, theirs.flat())) {
      if (!mine.some((m) => inside(cell, m))) continue;
      const holders = covers.filter((_, i) => theirs[i]!.some((a) => inside(cell, a)));
      if (
        !portsCovered(
          ports,
          holders.map((h) => h.ports),
        )
      )
        return false;
    }
  }
  return true;
}

/** Every port cell of `ports` lies inside one range of one of `by`. */
function portsCovered(ports: readonly PortSpecRange[], by: readonly PortSpecRange[][]): boolean {
  for (const protocol of PROTOCOLS) {
    const mine = ports.filter((p) => p.protocol === protocol);
    const theirs = by.map((b) => b.filter((p) => p.protocol === protocol));
    const bounds = new Set<number>();
    for (const r of [...mine, ...theirs.flat()]) bounds.add(r.lo).add(r.hi + 1);
    const cuts = [...bounds].sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const lo = cuts[i]!;
      const hi = cuts[i + 1]! - 1;
      if (!mine.some((m) => m.lo <= lo && hi <= m.hi)) continue;
      if (!theirs.some((t) => t.some((r) => r.lo <= lo && hi <= r.hi))) return false;
    }
  }
  return true;
}

/** Elementary address cells between every boundary of the given ranges (one family). */
function cutAddresses(mine: readonly Cell[], theirs: readonly Cell[]): Cell[] {
  const bounds = new Set<bigint>();
  for (const r of [...mine, ...theirs]) bounds.add(r.lo).add(r.hi + 1n);
  const cuts = [...bounds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const cells: Cell[] = [];
  for (let i = 0; i + 1 < cuts.length; i++)
    cells.push({ family: mine[0]!.family, lo: cuts[i]!, hi: cuts[i + 1]! - 1n });
  return cells;
}

function inside(cell: Cell, range: Cell): boolean {
  return cell.family === range.family && range.lo <= cell.lo && cell.hi <= range.hi;
}

/** The addresses a rule's own peer can sit at: its cidr less exceptions, else any. */
function footprint(peer: Peer): readonly Cell[] {
  if (peer !== 'any' && peer.cidr !== undefined) return cidrCells(peer.cidr, peer.except);
  return EVERY;
}

function cidrCells(cidr: string, except: readonly string[] | undefined): Cell[] {
  const set = cidrPeerSet(cidr, except);
  return set.ranges.map(([lo, hi]) => ({ family: set.family, lo, hi }));
}

/** What the earlier peer `outer` surely matches of the peers `inner` can match. */
function coverOf(model: OracleModel, outer: Peer, inner: Peer): readonly Cell[] {
  if (outer === 'any') return EVERY;
  if (outer.cidr !== undefined) return cidrCells(outer.cidr, outer.except);
  if (inner === 'any' || inner.cidr !== undefined) return [];
  if (inner.partition !== undefined && inner.partition === outer.partition) return EVERY;
  const a = selectorOf(model, inner);
  const b = selectorOf(model, outer);
  if (a === undefined || b === undefined) return [];
  return selectorImplies(parseSelector(a), parseSelector(b)) ? EVERY : [];
}

/** A selector peer's text, or its partition's selector. */
function selectorOf(model: OracleModel, peer: Exclude<Peer, 'any'>): string | undefined {
  if (peer.selector !== undefined) return peer.selector;
  return model.partitions.find((p) => p.name === peer.partition)?.selector;
}

function portRanges(ports: string[] | 'all'): PortSpecRange[] {
  const specs: readonly string[] = ports === 'all' ? PROTOCOLS : ports;
  return specs.map((s) => portSpecRanges(s));
}
