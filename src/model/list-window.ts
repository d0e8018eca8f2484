/**
 * Where two versions of a list differ: the stretch between their longest common head
 * and tail. A host state replaces a side whole when one entry of it changes; the agent
 * finds what changed in it with one comparison pass (no allocation) and then checks and
 * applies only that stretch. Pure.
 */
import type { SideEntry } from './host-state.js';

/** `before[start, beforeEnd)` became `after[start, afterEnd)`; the rest is equal. */
export interface ListWindow {
  start: number;
  beforeEnd: number;
  afterEnd: number;
}

/**
 * The changed stretch of `after` against `before`, by `same`.
 *
 * @example changedWindow([1, 2, 3], [1, 9, 3], Object.is) // { start: 1, beforeEnd: 2, afterEnd: 2 }
 */
export function changedWindow<A, B>(
  before: readonly A[],
  after: readonly B[],
  same: (a: A, b: B) => boolean,
): ListWindow {
  return narrowWindow(
    before,
    after,
    { start: 0, beforeEnd: before.length, afterEnd: after.length },
    same,
  );
}

/** `window` less its equal head and tail (everything outside it is known equal). */
function narrowWindow<A, B>(
  before: readonly A[],
  after: readonly B[],
  window: ListWindow,
  same: (a: A, b: B) => boolean,
): ListWindow {
  let { start, beforeEnd, afterEnd } = window;
  while (start < beforeEnd && start < afterEnd && same(before[start]!, after[start]!)) start++;
  while (
    beforeEnd > start &&
    afterEnd > start &&
    same(before[beforeEnd - 1]!, after[afterEnd - 1]!)
  ) {
    beforeEnd--;
    afterEnd--;
  }
  return { start, beforeEnd, afterEnd };
}

/** The last window computed for a side list (`after`), with the list it was compared to. */
const sideWindows = new WeakMap<
  readonly unknown[],
  { before: readonly SideEntry[]; window: ListWindow }
>();

/**
 * {@link changedWindow} of two versions of one side list by {@link sameSideEntry},
 * computed once per pair: the wire check and the agent's table both need it, and at
 * 100,000 entries the comparison pass is the largest cost of a one-entry update. Lists
 * of host states are never mutated, so a pair's window never changes.
 *
 * @example sideListWindow(applied.peers, next.peers) // the second call is free
 */
export function sideListWindow(
  before: readonly SideEntry[],
  after: readonly unknown[],
): ListWindow {
  const known = sideWindows.get(after);
  if (known?.before === before) return known.window;
  const window = changedWindow(before, after, sameSideEntry);
  sideWindows.set(after, { before, window });
  return window;
}

/**
 * Records the changed stretch of `after` against `before` when it is already known (a
 * side patch knows which stretch it replaced), so {@link sideListWindow} of the pair
 * costs the stretch, not a pass over the lists. `window` may be wider than the change:
 * it is narrowed here by the same comparison, from its ends inwards.
 *
 * @example noteSideListWindow(side.peers, patched, { start: 4, beforeEnd: 6, afterEnd: 5 })
 */
export function noteSideListWindow(
  before: readonly SideEntry[],
  after: readonly SideEntry[],
  window: ListWindow,
): void {
  sideWindows.set(after, { before, window: narrowWindow(before, after, window, sameSideEntry) });
}

/**
 * Equality of two entries of one side list, by every field the agent reads (protocol,
 * ports, verdict, labels, peer, range). `b` may be anything off the wire.
 */
export function sameSideEntry(a: SideEntry, b: unknown): boolean {
  if (a === b) return true;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
  const e = b as Partial<SideEntry> & { peer?: unknown; range?: unknown };
  return (
    a.proto === e.proto &&
    Array.isArray(e.ports) &&
    a.ports[0] === e.ports[0] &&
    a.ports[1] === e.ports[1] &&
    a.verdict === e.verdict &&
    a.policy === e.policy &&
    a.rule === e.rule &&
    (a as { peer?: number }).peer === e.peer &&
    (a as { range?: string }).range === e.range
  );
}
