/**
 * The table as applied, kept in step with the host's states: {@link AppliedTable.advance}
 * turns the next state into exactly the nft commands it implies — the element adds and
 * deletes of the side groups whose entries changed, the frame elements that changed,
 * chains rewritten only when their rules change — as one transaction, without deriving
 * the whole table again (docs/adr/0013-incremental-table.md).
 *
 * Cost of an update: the frame (build-table.ts: O(records + ipcache + routes + defaults),
 * never the side entries), one comparison pass over each changed side's entry lists
 * (field by field, no allocation), and the groups those lists changed in. A side the
 * delta did not replace (the same object, as applyHostDelta leaves it) costs nothing.
 *
 * Invariant (checked by applied-table.test.ts and the kernel differential): after
 * `advance(next)`, `table` has the same sets, elements and chains as `buildTable(next)`.
 */
import type { Direction, HostState, SideEntry, SideState } from '../../model/host-state.js';
import { sideListWindow } from '../../model/list-window.js';
import { buildFrame, DIRECTIONS, sideKey, sidesByKey } from './build-table.js';
import type { Verdict } from './disjoint.js';
import { sameChain, sameSetShape } from './render.js';
import {
  groupElements,
  groupOf,
  jumpChain,
  jumpChainName,
  sideChainName,
  SIDE_LISTS,
  type SideElement,
  type SideList,
} from './side-maps.js';
import { SlotIdentities } from './local-slots.js';
import { putElement, type NftTable, type RenderOptions, type SetDecl } from './table.js';
import { Transaction } from './transaction.js';
import type { NftJson } from './types.js';

/**
 * What an update changed, for the conntrack sweep: only these flows can have become
 * denied. A change that only loosens (an allow entry added, a deny entry removed)
 * names nothing: no established flow can be denied by it.
 */
export interface TableChange {
  /**
   * Local identities whose verdicts may have become stricter: an allow or log entry
   * left a side, a deny entry entered one, a side went, a side chain or default map
   * changed. Their connections carry their ct mark.
   */
  identities: Set<number>;
  /**
   * One of those identities' ingress sides or defaults tightened: connections to it
   * from other local records carry the sender's ct mark, so those are judged too.
   */
  localSenders: boolean;
  /** Addresses whose identity (ipcache) changed. */
  addresses: Set<string>;
}

const noChange = (): TableChange => ({
  identities: new Set(),
  localSenders: false,
  addresses: new Set(),
});

/**
 * One side as applied in its slot's chain: the identity it is of, its entries, their
 * groups and the groups' elements.
 */
interface AppliedSide {
  identity: number;
  direction: Direction;
  source: SideState;
  /** The side's lists as applied (the state's own arrays: states are never mutated). */
  lists: Record<SideList, readonly SideEntry[]>;
  /** Group → its entries by value (with multiplicity); equal entries are one. */
  groups: Map<string, Map<string, { entry: SideEntry; count: number }>>;
  elements: Map<string, SideElement[]>;
}

/** An entry by value: every field {@link sameSideEntry} compares. */
const entryKey = (e: SideEntry): string =>
  `${e.proto}|${e.ports[0]}|${e.ports[1]}|${e.verdict}|${e.policy}|${e.rule}|` +
  `${(e as { peer?: number }).peer}|${(e as { range?: string }).range}`;

/** Log and rule-deny chains: referenced by side elements, kept by {@link AppliedTable.syncJumpChains}. */
const isJumpChain = (name: string): boolean => name.startsWith('lg-') || name.startsWith('dn-');
/** Side maps' elements belong to the side groups, not to the frame (slots hold no `-`). */
const SIDE_MAP = /^(eg|in)-[^-]+-/;
/** A side chain `eg-S`/`in-S` of slot S. */
const SIDE_CHAIN = /^(eg|in)-([^-]+)$/;
/** A default map `def-S` of slot S. */
const DEFAULT_MAP = /^def-([^-]+)$/;

/**
 * The kernel table of the last applied state, updated by delta.
 *
 * @example
 *   const applied = AppliedTable.build(state);   await nft.apply(renderTable(applied.table));
 *   const doc = applied.advance(next);           await nft.apply(doc ?? renderTable(...));
 */
export class AppliedTable {
  private readonly sides = new Map<string, AppliedSide>();
  /** Log and rule-deny chains the side elements jump to, counted. */
  private readonly jumpRefs = new Map<string, { count: number; verdict: Verdict }>();
  /** Jump chains whose element references crossed zero since the last sync. */
  private readonly touchedJumps = new Set<string>();
  /** The jump chains the frame's side chains use (ICMP by any), as of the last sync. */
  private frameJumps = new Map<string, Verdict>();
  private readonly slots = new SlotIdentities();
  private lastChange: TableChange = noChange();

  private constructor(
    readonly table: NftTable,
    private readonly opts: RenderOptions,
  ) {}

  /**
   * The whole table of `state` (a snapshot, a resync, the first state).
   *
   * @example renderTable(AppliedTable.build(state).table) // as renderRuleset(state)
   */
  static build(state: HostState, opts: RenderOptions = {}): AppliedTable {
    const { table, jumps, slots } = buildFrame(state, opts);
    const applied = new AppliedTable(table, opts);
    const tx = new Transaction();
    applied.moveSlots(slots);
    applied.updateSides(state, slots, tx);
    applied.syncJumpChains(jumps, tx);
    return applied;
  }

  /** What the last {@link advance} changed. */
  get change(): TableChange {
    return this.lastChange;
  }

  /**
   * Moves the table to `next` and returns the transaction doing the same in the kernel
   * (`{nftables: []}` when nothing changes), or undefined — the table untouched — when
   * the base chains change (steering starts or stops on the host): then the caller
   * replaces the whole table. After a refused transaction the table is not the
   * kernel's any more: build a new one.
   */
  advance(next: HostState): NftJson | undefined {
    const frame = buildFrame(next, this.opts);
    if (!this.sameBase(frame.table)) return undefined;
    const tx = new Transaction();
    this.lastChange = noChange();
    this.moveSlots(frame.slots);
    this.updateFrame(frame.table, tx);
    this.updateSides(next, frame.slots, tx);
    this.syncJumpChains(frame.jumps, tx);
    return tx.document();
  }

  /** Same hooked chains, and no set changes its shape. */
  private sameBase(next: NftTable): boolean {
    const hooked = (t: NftTable) => [...t.chains.values()].filter((c) => c.hook);
    const before = hooked(this.table);
    const after = hooked(next);
    if (before.length !== after.length) return false;
    for (const c of after) {
      const was = this.table.chains.get(c.name);
      if (!was || !sameChain(was, c)) return false;
    }
    for (const [name, s] of next.sets) {
      const was = this.table.sets.get(name);
      if (was && !sameSetShape(was, s)) return false;
    }
    return true;
  }

  /** Frame chains and sets, and the elements the frame owns (all but the side maps'). */
  private updateFrame(frame: NftTable, tx: Transaction): void {
    for (const [name, chain] of frame.chains) {
      const was = this.table.chains.get(name);
      if (was && sameChain(was, chain)) continue;
      if (was) tx.rewriteChain(chain);
      else tx.createChain(chain);
      this.table.chains.set(name, chain);
      this.noteChain(name);
    }
    for (const name of [...this.table.chains.keys()])
      if (!frame.chains.has(name) && !isJumpChain(name)) {
        tx.dropChain(name, this.table.chains.get(name)!.counters);
        this.table.chains.delete(name);
        this.noteChain(name);
      }
    for (const [name, set] of frame.sets) {
      const was = this.table.sets.get(name);
      if (!was) {
        tx.createSet(set);
        for (const e of set.elems.values()) tx.addElement(set, e);
        this.table.sets.set(name, set);
        this.noteSet(set, set.elems.keys());
        continue;
      }
      if (SIDE_MAP.test(name)) continue;
      const changed: string[] = [];
      for (const [k, sig] of was.sigs) {
        if (set.sigs.get(k) === sig) continue;
        tx.deleteElement(was, was.elems.get(k));
        changed.push(k);
      }
      for (const [k, sig] of set.sigs) {
        if (was.sigs.get(k) === sig) continue;
        tx.addElement(set, set.elems.get(k));
        changed.push(k);
      }
      if (changed.length === 0) continue;
      this.table.sets.set(name, set);
      this.noteSet(set, changed);
    }
    for (const [name, was] of [...this.table.sets])
      if (!frame.sets.has(name)) {
        tx.dropSet(was);
        this.table.sets.delete(name);
      }
  }

  /**
   * Takes the slots of the next state. A slot whose identity changed keeps its chains
   * and maps (local-slots.ts), so no chain change notes it: flows of both identities
   * may change verdict, as when the old identity's chains went and the new one's came.
   */
  private moveSlots(slots: ReadonlyMap<number, string>): void {
    for (const [was, id] of this.slots.move(slots)) {
      this.tighten(was, true);
      this.tighten(id, true);
    }
  }

  /** A changed chain `eg-S`/`in-S`: flows of S's identity may change verdict. */
  private noteChain(name: string): void {
    const m = SIDE_CHAIN.exec(name);
    const id = m ? this.slots.identityOf(m[2]!) : undefined;
    if (id !== undefined) this.tighten(id, m![1] === 'in');
  }

  /** Flows of local identity `id` (`ingress`: also those from other local records) may now be denied. */
  private tighten(id: number, ingress: boolean): void {
    this.lastChange.identities.add(id);
    if (ingress) this.lastChange.localSenders = true;
  }

  /** Changed elements of a frame set: addresses of the ipcache, identities of `def-S`. */
  private noteSet(set: SetDecl, keys: Iterable<string>): void {
    const def = DEFAULT_MAP.exec(set.name);
    const id = def ? this.slots.identityOf(def[1]!) : undefined;
    if (id !== undefined) this.tighten(id, true);
    if (set.name === 'ipcache4' || set.name === 'ipcache6')
      for (const k of keys) this.lastChange.addresses.add(JSON.parse(k) as string);
  }

  /**
   * Side groups, by side chain: added, removed and changed sides, each by the groups it
   * changed. A side in a slot that held another identity is a changed side: its
   * elements become the new identity's by the groups in which the two differ.
   */
  private updateSides(next: HostState, slots: ReadonlyMap<number, string>, tx: Transaction): void {
    const sides = sidesByKey(next);
    const wanted = new Set<string>();
    for (const [id, slot] of slots)
      for (const direction of DIRECTIONS) {
        const side = sides.get(sideKey(id, direction));
        if (!side) continue;
        const chain = sideChainName(direction, slot);
        wanted.add(chain);
        const applied = this.sides.get(chain);
        if (applied?.source === side) continue;
        // A side new to the table: judged as a tightening (what it replaces is unknown here).
        if (!applied || this.updateSide(applied, side, chain, tx))
          this.tighten(id, direction === 'ingress');
        if (!applied) this.sides.set(chain, this.addSide(side, chain, tx));
      }
    for (const [chain, applied] of [...this.sides])
      if (!wanted.has(chain)) {
        this.tighten(applied.identity, applied.direction === 'ingress');
        for (const group of applied.elements.keys()) this.setGroup(applied, group, [], tx);
        this.sides.delete(chain);
      }
  }

  private addSide(side: SideState, chain: string, tx: Transaction): AppliedSide {
    const applied: AppliedSide = {
      identity: side.identity,
      direction: side.direction,
      source: side,
      lists: { cidr: side.cidr, peers: side.peers, any: side.any },
      groups: new Map(),
      elements: new Map(),
    };
    const touched = new Set<string>();
    for (const list of SIDE_LISTS)
      for (const e of applied.lists[list]) this.enter(applied, list, e, touched);
    for (const group of touched) this.refreshGroup(applied, chain, group, tx);
    return applied;
  }

  /**
   * The entries between the longest common head and tail of each list are what
   * changed; their groups are derived again, nothing else. Returns whether the side
   * may deny a flow it allowed: an allow or log entry left, or a deny entry came (a
   * side's verdict is the strictest matching entry of its first matching list, so an
   * added allow or a removed deny never denies anything).
   */
  private updateSide(
    applied: AppliedSide,
    side: SideState,
    chain: string,
    tx: Transaction,
  ): boolean {
    const touched = new Set<string>();
    let tightened = false;
    for (const list of SIDE_LISTS) {
      const before = applied.lists[list];
      const after = side[list];
      const { start, beforeEnd: endBefore, afterEnd: endAfter } = sideListWindow(before, after);
      if (start === endBefore && start === endAfter) continue;
      for (let i = start; i < endBefore; i++) {
        const e = before[i]!;
        if (e.verdict !== 'deny') tightened = true;
        this.leave(applied, list, e, touched);
      }
      for (let i = start; i < endAfter; i++) {
        const e = after[i]!;
        if (e.verdict === 'deny') tightened = true;
        this.enter(applied, list, e, touched);
      }
      applied.lists[list] = after;
    }
    applied.source = side;
    applied.identity = side.identity;
    for (const group of touched) this.refreshGroup(applied, chain, group, tx);
    return tightened;
  }

  private enter(applied: AppliedSide, list: SideList, e: SideEntry, touched: Set<string>): void {
    const group = groupOf(list, e);
    if (group === undefined) return;
    const entries =
      applied.groups.get(group) ?? new Map<string, { entry: SideEntry; count: number }>();
    const key = entryKey(e);
    const known = entries.get(key);
    if (known) known.count++;
    else entries.set(key, { entry: e, count: 1 });
    applied.groups.set(group, entries);
    touched.add(group);
  }

  private leave(applied: AppliedSide, list: SideList, e: SideEntry, touched: Set<string>): void {
    const group = groupOf(list, e);
    if (group === undefined) return;
    const entries = applied.groups.get(group)!;
    const key = entryKey(e);
    const known = entries.get(key)!;
    if (--known.count === 0) entries.delete(key);
    if (entries.size === 0) applied.groups.delete(group);
    touched.add(group);
  }

  private refreshGroup(applied: AppliedSide, chain: string, group: string, tx: Transaction): void {
    const entries = applied.groups.get(group);
    const elements = entries
      ? groupElements(
          chain,
          group,
          [...entries.values()].map((e) => e.entry),
        )
      : [];
    this.setGroup(applied, group, elements, tx);
  }

  /** Replaces a group's elements by `elements`: deletes and adds only what differs. */
  private setGroup(
    applied: AppliedSide,
    group: string,
    elements: SideElement[],
    tx: Transaction,
  ): void {
    const before = applied.elements.get(group) ?? [];
    const id = (e: SideElement) => `${e.set}|${e.key}`;
    const after = new Map(elements.map((e) => [id(e), e]));
    const kept = new Set<string>();
    for (const e of before) {
      const same = after.get(id(e));
      if (same?.sig === e.sig) {
        kept.add(id(e));
        continue;
      }
      const set = this.table.sets.get(e.set);
      // A dropped map takes its elements along.
      if (set) {
        tx.deleteElement(set, e.elem);
        set.elems.delete(e.key);
        set.sigs.delete(e.key);
      }
      this.countJump(e.jump, -1);
    }
    for (const e of elements) {
      if (kept.has(id(e))) continue;
      const set = this.table.sets.get(e.set)!;
      tx.addElement(set, e.elem);
      putElement(set, e);
      this.countJump(e.jump, 1);
    }
    if (elements.length > 0) applied.elements.set(group, elements);
    else applied.elements.delete(group);
  }

  private countJump(verdict: Verdict | undefined, by: 1 | -1): void {
    if (!verdict) return;
    const name = jumpChainName(verdict)!;
    const ref = this.jumpRefs.get(name) ?? { count: 0, verdict };
    ref.count += by;
    if (ref.count > 0) this.jumpRefs.set(name, ref);
    else this.jumpRefs.delete(name);
    // Referenced by its first element, or by none any more.
    if (ref.count === (by === 1 ? 1 : 0)) this.touchedJumps.add(name);
  }

  /**
   * Log and rule-deny chains: exactly those the side chains (`frameJumps`) and side
   * elements jump to. Only the chains whose references this update changed are looked
   * at (those whose element count crossed zero, and the frame's), so an update costs
   * O(change), not O(rules): a rule's deny chain and its counter come with the first
   * element naming it and go with the last.
   */
  private syncJumpChains(frameJumps: Map<string, Verdict>, tx: Transaction): void {
    const touched = this.touchedJumps;
    for (const name of frameJumps.keys()) if (!this.frameJumps.has(name)) touched.add(name);
    for (const name of this.frameJumps.keys()) if (!frameJumps.has(name)) touched.add(name);
    this.frameJumps = frameJumps;
    for (const name of [...touched].sort()) {
      const verdict = frameJumps.get(name) ?? this.jumpRefs.get(name)?.verdict;
      const had = this.table.chains.get(name);
      if (verdict && !had) {
        const chain = jumpChain(verdict);
        tx.createChain(chain);
        this.table.chains.set(name, chain);
      } else if (!verdict && had) {
        tx.dropChain(name, had.counters);
        this.table.chains.delete(name);
      }
    }
    touched.clear();
  }
}
