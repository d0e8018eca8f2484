/**
 * Numeric identities for canonical identity-relevant tag sets (design.md §3).
 *
 * Invariants:
 * - ids 1..255 are reserved (1 = world); allocation starts at 256 and never exceeds 65535
 *   (VXLAN-GBP carries 16 bits);
 * - one live id per canonical key; `retain`/`release` count the records using it;
 * - an id whose count drops to 0 stays bound to its key for `graceMs` (so a record that
 *   flaps back gets the same id and PEPs never see an id reused for other tags too soon);
 *   after that `sweep(now)` frees it, and the lowest free id is reused first. Allocation
 *   is therefore deterministic for a given sequence of operations and times.
 *
 * @example
 *   const a = new IdentityAllocator({ graceMs: 30_000 });
 *   const id = a.retain('{"app":"web"}', now); // 256
 *   a.release(id, now);                        // freed by a.sweep(now + 30_000)
 */
import { VnpError } from '../model/errors.js';
import { IDENTITY_FIRST_ALLOCATED, IDENTITY_MAX } from '../model/host-state.js';

/**
 * One allocation as persisted, so that every manager sharing a database gives the same
 * number to the same tag set (the database decides; see docs/adr/0007-distribution.md).
 */
export interface IdentitySeed {
  id: number;
  /** Canonical identity-relevant tags JSON. */
  key: string;
  /** When its last user left (ms), while in its grace period; absent while in use. */
  releasedAt?: number;
}

interface Slot {
  id: number;
  key: string;
  refs: number;
  /** When refs reached 0 (for the grace period); -1 while in use. */
  releasedAt: number;
}

export class IdentityAllocator {
  private readonly byKey = new Map<string, Slot>();
  private readonly byId = new Map<number, Slot>();
  /** Freed ids, kept sorted ascending so the lowest is reused first. */
  private readonly free: number[] = [];
  private next = IDENTITY_FIRST_ALLOCATED;
  /** Slots in release order (time is non-decreasing in practice); stale entries are skipped. */
  private graceQueue: { slot: Slot; releasedAt: number }[] = [];
  private graceHead = 0;
  private readonly graceMs: number;

  constructor(opts: { graceMs?: number } = {}) {
    this.graceMs = opts.graceMs ?? 30_000;
  }

  /** The id for `key`, allocating one if needed, and count one more user. */
  retain(key: string): { id: number; created: boolean } {
    let slot = this.byKey.get(key);
    let created = false;
    if (!slot) {
      slot = { id: this.take(), key, refs: 0, releasedAt: -1 };
      this.byKey.set(key, slot);
      this.byId.set(slot.id, slot);
      created = true;
    }
    slot.refs++;
    slot.releasedAt = -1;
    return { id: slot.id, created };
  }

  /** One user fewer; at zero the id enters its grace period. */
  release(id: number, now: number): void {
    const slot = this.byId.get(id);
    if (!slot || slot.refs === 0)
      throw new Error(`identity ${id} released more often than retained`);
    slot.refs--;
    if (slot.refs === 0) {
      slot.releasedAt = now;
      this.graceQueue.push({ slot, releasedAt: now });
    }
  }

  /**
   * Pre-binds persisted allocations before any retain (a load): a seeded key gets its
   * seeded id back; a seeded id nobody retains stays bound for a grace period (from its
   * `releasedAt`, else from `now`). Other ids go lowest-unbound-first, as always.
   * Inconsistent entries (out of range, duplicate id or key) are ignored.
   *
   * @example
   *   a.seed([{ id: 300, key: '{"app":"web"}' }], now); a.retain('{"app":"web"}').id // 300
   */
  seed(entries: readonly IdentitySeed[], now: number): void {
    if (this.byId.size > 0 || this.next !== IDENTITY_FIRST_ALLOCATED)
      throw new Error('identities can only be seeded before any allocation');
    let max = IDENTITY_FIRST_ALLOCATED - 1;
    const slots: Slot[] = [];
    for (const e of [...entries].sort((a, b) => a.id - b.id)) {
      if (!Number.isInteger(e.id) || e.id < IDENTITY_FIRST_ALLOCATED || e.id > IDENTITY_MAX)
        continue;
      if (this.byId.has(e.id) || this.byKey.has(e.key)) continue;
      const slot: Slot = { id: e.id, key: e.key, refs: 0, releasedAt: e.releasedAt ?? now };
      this.byId.set(e.id, slot);
      this.byKey.set(e.key, slot);
      slots.push(slot);
      max = Math.max(max, e.id);
    }
    this.next = max + 1;
    for (let id = IDENTITY_FIRST_ALLOCATED; id < this.next; id++)
      if (!this.byId.has(id)) this.free.push(id);
    slots.sort((a, b) => a.releasedAt - b.releasedAt || a.id - b.id);
    for (const slot of slots) this.graceQueue.push({ slot, releasedAt: slot.releasedAt });
  }

  /** Every bound allocation, ascending by id (what {@link seed} takes back). */
  entries(): IdentitySeed[] {
    return [...this.byId.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({
        id: s.id,
        key: s.key,
        ...(s.refs === 0 ? { releasedAt: s.releasedAt } : {}),
      }));
  }

  /** Frees ids whose grace period has ended; returns them (ascending). */
  sweep(now: number): number[] {
    const freed: number[] = [];
    // O(expired): only the head of the release queue can be due.
    while (this.graceHead < this.graceQueue.length) {
      const { slot, releasedAt } = this.graceQueue[this.graceHead]!;
      if (now - releasedAt < this.graceMs) break;
      this.graceHead++;
      // Skip entries whose slot was retained again (or re-released later, queued anew).
      if (slot.refs === 0 && slot.releasedAt === releasedAt && this.byId.get(slot.id) === slot)
        freed.push(slot.id);
    }
    if (this.graceHead > 1024 && this.graceHead * 2 > this.graceQueue.length) {
      this.graceQueue = this.graceQueue.slice(this.graceHead);
      this.graceHead = 0;
    }
    freed.sort((a, b) => a - b);
    for (const id of freed) {
      const slot = this.byId.get(id)!;
      this.byId.delete(id);
      this.byKey.delete(slot.key);
      insertSorted(this.free, id);
    }
    return freed;
  }

  /** Re-binds a live id to a new key (identity-relevant keys changed but its records did not split). */
  rekey(id: number, key: string): void {
    const slot = this.byId.get(id);
    if (!slot) throw new Error(`identity ${id} is not allocated`);
    if (this.byKey.get(key) && this.byKey.get(key) !== slot) throw new Error(`key already bound`);
    this.byKey.delete(slot.key);
    slot.key = key;
    this.byKey.set(key, slot);
  }

  idOf(key: string): number | undefined {
    return this.byKey.get(key)?.id;
  }

  keyOf(id: number): string | undefined {
    return this.byId.get(id)?.key;
  }

  refs(id: number): number {
    return this.byId.get(id)?.refs ?? 0;
  }

  /** Ids bound to a key (in use or in grace). */
  size(): number {
    return this.byId.size;
  }

  /** A structural copy (for Engine.fork). */
  clone(): IdentityAllocator {
    const c = new IdentityAllocator({ graceMs: this.graceMs });
    for (const s of this.byId.values()) {
      const copy = { ...s };
      c.byId.set(copy.id, copy);
      c.byKey.set(copy.key, copy);
    }
    c.free.push(...this.free);
    c.next = this.next;
    for (const q of this.graceQueue.slice(this.graceHead))
      c.graceQueue.push({ slot: c.byId.get(q.slot.id) ?? q.slot, releasedAt: q.releasedAt });
    return c;
  }

  private take(): number {
    const reused = this.free.shift();
    if (reused !== undefined) return reused;
    if (this.next > IDENTITY_MAX) {
      throw new VnpError(
        'VNP_ERR_CONFLICT',
        `identity space exhausted: more than ${IDENTITY_MAX - IDENTITY_FIRST_ALLOCATED + 1} distinct identity-relevant tag sets`,
      );
    }
    return this.next++;
  }
}

function insertSorted(a: number[], v: number): void {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  a.splice(lo, 0, v);
}
