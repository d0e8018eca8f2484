/**
 * The resolved policy of one (identity, direction) side: the enforce rules of every
 * policy that applies to the identity, in precedence order, compiled into lookup
 * tables whose values are positions in `rules` (lower = decides first). Because the
 * §2.1 decision is "the first matching rule in precedence order", results of separate
 * tables combine with `min` — identity peers, any-peer rules and CIDR peers are looked
 * up independently and the smallest position wins.
 *
 * Peer tables are built lazily per peer identity and dropped individually when that
 * identity's membership changes, so a tag change never rebuilds a whole side; peers
 * matching the same rules share one table.
 */
import type { Direction } from '../../model/host-state.js';
import type { Family } from '../../model/net.js';
import { buildAddressTable, type AddressTable } from './address-table.js';
import type { CompiledRule } from './compiled-rule.js';
import { EMPTY_PORT_TABLE, paintPorts, type PortTable } from './port-table.js';

/** Resolves a peer rule's member set (selector entry or partition) at build time. */
export type MemberSetOf = (rule: CompiledRule) => ReadonlySet<number> | undefined;

export class ResolvedSide {
  readonly identity: number;
  readonly direction: Direction;
  /** Enforce rules in precedence order. */
  readonly rules: readonly CompiledRule[];
  /** Audit-mode rules in precedence order (reported, never deciding). */
  readonly audit: readonly CompiledRule[];
  readonly anyTable: PortTable;
  /** Present only when some rule has a CIDR peer. */
  readonly cidrTable: AddressTable | undefined;
  /** Positions of identity-peer rules (selector or partition), ascending. */
  private readonly peerRules: number[];
  private readonly anyRules: number[];
  private readonly memberSets: (ReadonlySet<number> | undefined)[];
  private readonly peerTables = new Map<number, PortTable>();
  /**
   * Peer tables by the positions of the identity-peer rules matching the peer (joined
   * by ','): a peer's table depends on nothing else, and most peers of a side match
   * the same few rule sets — a new identity joining a selector used by many sides got
   * a table painted in each of them; it now shares the one its rule set already has.
   * The side's rules never change, so an entry never goes stale.
   */
  private readonly tablesByRules = new Map<string, PortTable>();
  /** Peers dropped since the last {@link takeDroppedPeers} (what a rendered side must patch). */
  private dropped = new Set<number>();

  constructor(
    identity: number,
    direction: Direction,
    rules: CompiledRule[],
    audit: CompiledRule[],
    memberSetOf: MemberSetOf,
  ) {
    this.identity = identity;
    this.direction = direction;
    this.rules = rules;
    this.audit = audit;
    this.peerRules = [];
    this.anyRules = [];
    const cidrRules: number[] = [];
    this.memberSets = rules.map((r, i) => {
      if (r.peer.kind === 'any') this.anyRules.push(i);
      else if (r.peer.kind === 'cidr') cidrRules.push(i);
      else this.peerRules.push(i);
      return r.peer.kind === 'selector' || r.peer.kind === 'partition' ? memberSetOf(r) : undefined;
    });
    this.anyTable = this.anyRules.length
      ? paintPorts(
          this.anyRules.map((i) => rules[i]!.spans),
          this.anyRules,
        )
      : EMPTY_PORT_TABLE;
    this.cidrTable = cidrRules.length
      ? buildAddressTable(
          cidrRules.map(
            (i) => (rules[i]!.peer as Extract<CompiledRule['peer'], { kind: 'cidr' }>).ranges,
          ),
          cidrRules.map((i) => rules[i]!.spans),
          cidrRules,
        )
      : undefined;
  }

  /** Position of the deciding rule for a peer, or -1 when no rule matches (default applies). */
  decide(
    peer: number,
    family: Family,
    addr: bigint | undefined,
    proto: number,
    port: number,
  ): number {
    let best = this.peerTable(peer).lookup(proto, port);
    if (this.cidrTable !== undefined && addr !== undefined) {
      const seg = this.cidrTable.lookup(family, addr);
      if (seg) {
        const c = seg.ports.lookup(proto, port);
        if (c >= 0 && (best < 0 || c < best)) best = c;
      }
    }
    return best;
  }

  /** Port table for one peer identity: its identity-peer rules merged with any-peer rules. */
  peerTable(peer: number): PortTable {
    let table = this.peerTables.get(peer);
    if (table === undefined) {
      table = this.buildPeerTable(peer);
      this.peerTables.set(peer, table);
    }
    return table;
  }

  /** Forget a peer's table (its membership changed). */
  dropPeer(peer: number): void {
    this.peerTables.delete(peer);
    this.dropped.add(peer);
  }

  /**
   * The peers whose membership changed since the last call (and forget them): a side
   * rendered before needs only those peers' entries redone (host-state-builder.ts).
   */
  takeDroppedPeers(): Set<number> {
    const out = this.dropped;
    this.dropped = new Set();
    return out;
  }

  /** Whether some peer was dropped since the last {@link takeDroppedPeers}. */
  hasDroppedPeers(): boolean {
    return this.dropped.size > 0;
  }

  /** Whether some identity-peer rule of this side names `peer`. */
  hasPeer(peer: number): boolean {
    return this.peerRules.some((i) => this.memberSets[i]?.has(peer) ?? false);
  }

  /** True when `rule` (by position) matches peer identity `peer` by its peer set. */
  peerMatches(pos: number, peer: number): boolean {
    const r = this.rules[pos]!;
    if (r.peer.kind === 'any') return true;
    if (r.peer.kind === 'cidr') return false;
    return this.memberSets[pos]?.has(peer) ?? false;
  }

  /** Every peer identity named by some identity-peer rule of this side. */
  peerIdentities(): Set<number> {
    const out = new Set<number>();
    for (const i of this.peerRules) for (const id of this.memberSets[i] ?? []) out.add(id);
    return out;
  }

  hasRules(): boolean {
    return this.rules.length > 0;
  }

  private buildPeerTable(peer: number): PortTable {
    const matching: number[] = [];
    for (const i of this.peerRules) if (this.memberSets[i]?.has(peer)) matching.push(i);
    if (matching.length === 0) return this.anyTable;
    const key = matching.join(',');
    let table = this.tablesByRules.get(key);
    if (table === undefined) {
      const merged = mergeSorted(matching, this.anyRules);
      table = paintPorts(
        merged.map((i) => this.rules[i]!.spans),
        merged,
      );
      this.tablesByRules.set(key, table);
    }
    return table;
  }
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
