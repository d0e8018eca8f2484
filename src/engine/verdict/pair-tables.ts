/**
 * The fast path's memory: the final verdict table of each identity pair (both sides and
 * defaults folded in, value 1 = allow, CIDR rules left out), interned — most pairs share
 * one of a few tables (cross-partition deny, a tier's allow list), so the working set is
 * the number of distinct tables, not of pairs. Bounded in size; a batch forgets what it
 * may have changed (`forgetStale`).
 *
 * A table leaves CIDR rules out; it is exact for a pair unless a side has CIDR rules and
 * a CIDR peer in the documents covers one endpoint's primary address (`exact`).
 */
import type { AddressRange } from '../compile/address-table.js';
import { AddressSet } from '../compile/address-set.js';
import { PortTable, PROTO_INDEX, PROTO_NAMES } from '../compile/port-table.js';
import type { EngineState, RecordState } from '../state/engine-state.js';
import { flowTable } from './flow-table.js';
import { PairCache } from './pair-cache.js';
import type { Sides } from './sides.js';

/** Past this many cached pairs the cache starts over (memory stays bounded). */
const PAIR_CACHE_LIMIT = 1_000_000;
/** Past this many interned pair tables they all start over, pairs included (bounded memory). */
const PAIR_TABLE_LIMIT = 65_536;

export class PairTables {
  /** (src identity, dst identity) → index into `tables` / `cidr`. */
  private readonly cache = new PairCache(PAIR_CACHE_LIMIT);
  /** Distinct identity-only verdict tables. */
  private tables: PortTable[] = [];
  /** Per interned table: a side of its pairs has CIDR rules (the table leaves them out). */
  private cidr: boolean[] = [];
  private readonly intern = new Map<string, number>();
  private cidrSet: { epoch: number; set: AddressSet } | undefined;

  constructor(
    private readonly state: EngineState,
    private readonly sides: Sides,
  ) {}

  /**
   * The pair's table when it decides the flow between these two records exactly,
   * else undefined (the sides must judge with the addresses).
   */
  exact(src: RecordState, dst: RecordState): PortTable | undefined {
    const at = this.index(src.identity, dst.identity);
    if (!this.cidr[at] || !(this.nearCidr(src) || this.nearCidr(dst))) return this.tables[at]!;
    return undefined;
  }

  private index(src: number, dst: number): number {
    let at = this.cache.get(src, dst);
    if (at < 0) {
      at = this.build(src, dst);
      this.cache.set(src, dst, at);
    }
    return at;
  }

  /** The interned index of the pair's identity-only table. */
  private build(src: number, dst: number): number {
    const cidr =
      this.sides.side(src, 'egress').cidrTable !== undefined ||
      this.sides.side(dst, 'ingress').cidrTable !== undefined;
    const rows: number[][] = PROTO_NAMES.map(() => []);
    // Endpoints without addresses: flowTable leaves every CIDR rule out.
    for (const seg of flowTable(this.sides, { identity: src }, { identity: dst })) {
      rows[PROTO_INDEX[seg.proto]]!.push(seg.lo, seg.hi, seg.verdict === 'allow' ? 1 : 0);
    }
    const signature = (cidr ? 'c' : '') + rows.map((r) => r.join(',')).join('|');
    let at = this.intern.get(signature);
    if (at === undefined) {
      // Forgotten pairs leave their tables behind: bound them (the pair is cached after this).
      if (this.tables.length >= PAIR_TABLE_LIMIT) this.clear();
      at = this.tables.push(new PortTable(rows.map((r) => Int32Array.from(r)))) - 1;
      this.cidr.push(cidr);
      this.intern.set(signature, at);
    }
    return at;
  }

  /**
   * Whether some CIDR peer in the documents covers the record's primary address (the one
   * the fast path judges with), cached on the record until the next policy change.
   * Records are replaced, never mutated, when their addresses change.
   */
  private nearCidr(rec: RecordState): boolean {
    if (rec.cidrEpoch !== this.state.cidrEpoch) {
      rec.nearCidr = rec.ips.length > 0 && this.cidrPeers().has(rec.ips[0]!);
      rec.cidrEpoch = this.state.cidrEpoch;
    }
    return rec.nearCidr!;
  }

  /** Every address any CIDR peer of any policy matches (exceptions already left out). */
  private cidrPeers(): AddressSet {
    const epoch = this.state.cidrEpoch;
    if (this.cidrSet?.epoch !== epoch) {
      const ranges: AddressRange[] = [];
      for (const p of this.state.policies.values())
        for (const r of p.rules) if (r.peer.kind === 'cidr') ranges.push(...r.peer.ranges);
      this.cidrSet = { epoch, set: new AddressSet(ranges) };
    }
    return this.cidrSet.set;
  }

  /**
   * After a batch: forgets the cached pairs of the identities the state marks stale
   * (O(1) each, see PairCache.forget), or every pair when the batch invalidated
   * broadly. Interned tables of forgotten pairs stay (they are values, keyed by
   * content) until PAIR_TABLE_LIMIT clears everything.
   */
  forgetStale(): void {
    const stale = this.state.stalePairIds;
    if (this.state.allPairsStale) this.clear();
    else for (const id of stale) this.cache.forget(id);
    stale.clear();
    this.state.allPairsStale = false;
  }

  private clear(): void {
    this.cache.clear();
    this.tables = [];
    this.cidr = [];
    this.intern.clear();
  }
}
