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
import { VnpError } from '../../model/errors.js';
import { IDENTITY_FIRST_ALLOCATED, IDENTITY_MAX } from '../../model/host-state.js';

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

/**
 * The allocation rows that changed since the last {@link IdentityAllocator.takeChanges}
 * and order-independent fingerprints of every row before and after them, so a store
 * can apply just these rows when it holds exactly `before`.
 */
export interface IdentityChanges {
  /** Rows allocated, re-keyed, released into or retained out of grace (ascending id). */
  upsert: IdentitySeed[];
  /** Ids no longer bound (their grace ended), ascending; may name one bound and freed since the last take. */
  remove: number[];
  before: string;
  after: string;
}

/** The fingerprint of no allocations. */
export const EMPTY_IDENTITY_FINGERPRINT = '0.0.0';

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
  /** Ids whose persisted row changed since the last takeChanges. */
  private dirty = new Set<number>();
  /** Running sums (mod 2^32) of two row hashes, and the row count: the fingerprint. */
  private sumA = 0;
  private sumB = 0;
  private count = 0;
  private taken = EMPTY_IDENTITY_FINGERPRINT;

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
      this.count++;
    } else if (slot.refs === 0) this.unmark(slot); // out of grace
    if (created || slot.refs === 0) {
      slot.refs++;
      slot.releasedAt = -1;
      this.mark(slot);
    } else slot.refs++;
    return { id: slot.id, created };
  }

  /** One user fewer; at zero the id enters its grace period. */
  release(id: number, now: number): void {
    const slot = this.byId.get(id);
    if (!slot || slot.refs === 0)
      throw new Error(`identity ${id} released more often than retained`);
    if (slot.refs === 1) this.unmark(slot);
    slot.refs--;
    if (slot.refs === 0) {
      slot.releasedAt = now;
      this.graceQueue.push({ slot, releasedAt: now });
      this.mark(slot);
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
      this.count++;
      this.mark(slot);
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
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map(rowOf);
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
      this.unmark(slot);
      this.count--;
      this.dirty.add(id);
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
    this.unmark(slot);
    this.byKey.delete(slot.key);
    slot.key = key;
    this.byKey.set(key, slot);
    this.mark(slot);
  }

  /** Fingerprint of every bound allocation (as {@link entries} lists them). O(1). */
  fingerprint(): string {
    return `${this.count}.${this.sumA.toString(16)}.${this.sumB.toString(16)}`;
  }

  /**
   * The rows that changed since the previous call (the first call: since creation,
   * i.e. all of them), with the fingerprints before and after. O(changed rows).
   *
   * @example const { upsert, remove, before, after } = a.takeChanges();
   */
  takeChanges(): IdentityChanges {
    const upsert: IdentitySeed[] = [];
    const remove: number[] = [];
    for (const id of [...this.dirty].sort((a, b) => a - b)) {
      const slot = this.byId.get(id);
      if (slot) upsert.push(rowOf(slot));
      else remove.push(id);
    }
    const before = this.taken;
    this.taken = this.fingerprint();
    this.dirty = new Set();
    return { upsert, remove, before, after: this.taken };
  }

  /** A row's persisted form now changes: take its old hash out of the sums. */
  private unmark(slot: Slot): void {
    const [a, b] = rowHashes(rowOf(slot));
    this.sumA = (this.sumA - a) >>> 0;
    this.sumB = (this.sumB - b) >>> 0;
  }

  /** A row's persisted form changed: add its new hash, note it for the next takeChanges. */
  private mark(slot: Slot): void {
    const [a, b] = rowHashes(rowOf(slot));
    this.sumA = (this.sumA + a) >>> 0;
    this.sumB = (this.sumB + b) >>> 0;
    this.dirty.add(slot.id);
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
    for (const slot of this.byId.values()) {
      const copy = { ...slot };
      c.byId.set(copy.id, copy);
      c.byKey.set(copy.key, copy);
    }
    for (const id of this.free) c.free.push(id);
    c.next = this.next;
    c.sumA = this.sumA;
    c.sumB = this.sumB;
    c.count = this.count;
    c.taken = this.taken;
    c.dirty = new Set(this.dirty);
    // A stale entry (its id freed, perhaps bound again since) keeps the old slot, which
    // sweep skips as it does here; only live slots are replaced by their copies.
    for (const q of this.graceQueue.slice(this.graceHead)) {
      const live = this.byId.get(q.slot.id) === q.slot;
      c.graceQueue.push({ slot: live ? c.byId.get(q.slot.id)! : q.slot, releasedAt: q.releasedAt });
    }
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

function rowOf(slot: Slot): IdentitySeed {
  return {
    id: slot.id,
    key: slot.key,
    ...(slot.refs === 0 ? { releasedAt: slot.releasedAt } : {}),
  };
}

/**
 * The fingerprint of a set of rows, as {@link IdentityAllocator.fingerprint} keeps it
 * (order-independent: sums of per-row hashes).
 *
 * @example identityFingerprint(a.entries()) === a.fingerprint() // true
 */
export function identityFingerprint(rows: readonly IdentitySeed[]): string {
  let sumA = 0;
  let sumB = 0;
  for (const r of rows) {
    const [a, b] = rowHashes(r);
    sumA = (sumA + a) >>> 0;
    sumB = (sumB + b) >>> 0;
  }
  return `${rows.length}.${sumA.toString(16)}.${sumB.toString(16)}`;
}

/** Two 32-bit hashes of a persisted row (FNV-1a; a multiply-xorshift with another basis). */
function rowHashes(r: IdentitySeed): [number, number] {
  const text = `${r.id}\u0000${r.key}\u0000${r.releasedAt ?? ''}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b ^ (b >>> 13)) >>> 0];
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
