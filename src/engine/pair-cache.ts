/**
 * A map from an identity pair (src, dst) to a small integer, open-addressed in two typed
 * arrays. The verdict fast path looks a pair up on every call: one probe here is usually
 * one cache line, where a `Map` per source costs several dependent loads into objects
 * scattered over the heap — the difference between a working set that fits the cache
 * and one that does not once there are thousands of identities.
 *
 * Invariants: identities are 1..65535 (design.md §3), so a pair packs into 32 bits and
 * key 0 marks an empty slot; the load factor stays ≤ 1/2; past `limit` entries the map
 * starts over (memory stays bounded; callers treat entries as a cache).
 *
 * @example
 *   const c = new PairCache(1000); c.set(256, 300, 7); c.get(256, 300) // 7
 */
export class PairCache {
  private keys: Uint32Array;
  private vals: Int32Array;
  private bits: number;
  private count = 0;

  constructor(
    private readonly limit: number,
    private readonly initialBits = 10,
  ) {
    this.bits = initialBits;
    this.keys = new Uint32Array(1 << initialBits);
    this.vals = new Int32Array(1 << initialBits);
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** The value of (src, dst), or -1. */
  get(src: number, dst: number): number {
    const key = ((src << 16) | dst) >>> 0;
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = slotOf(key, this.bits); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === 0) return -1;
    }
  }

  /** Sets (src, dst) → value (value ≥ 0). */
  set(src: number, dst: number, value: number): void {
    if (this.count >= this.limit) this.clear();
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    if (this.put(((src << 16) | dst) >>> 0, value)) this.count++;
  }

  /** Forgets every entry (keeps the current capacity). */
  clear(): void {
    this.keys.fill(0);
    this.count = 0;
  }

  /**
   * Forgets the entries for which `drop(src, dst, value)` is true; returns how many.
   * Open addressing cannot simply empty a slot (it would cut the probe chains running
   * through it), so the kept entries are re-inserted into fresh arrays of the same size.
   *
   * @example c.deleteWhere((src, dst) => src === 300 || dst === 300) // pairs of 300 gone
   */
  deleteWhere(drop: (src: number, dst: number, value: number) => boolean): number {
    const { keys, vals } = this;
    this.keys = new Uint32Array(keys.length);
    this.vals = new Int32Array(keys.length);
    const before = this.count;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === 0 || drop(k >>> 16, k & 0xffff, vals[i]!)) continue;
      this.put(k, vals[i]!);
      this.count++;
    }
    return before - this.count;
  }

  /** True when the key was new. */
  private put(key: number, value: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = slotOf(key, this.bits); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key || k === 0) {
        keys[i] = key;
        this.vals[i] = value;
        return k === 0;
      }
    }
  }

  private grow(): void {
    const { keys, vals } = this;
    this.bits++;
    this.keys = new Uint32Array(1 << this.bits);
    this.vals = new Int32Array(1 << this.bits);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.put(keys[i]!, vals[i]!);
  }
}

/** Fibonacci hashing: the top `bits` bits of key × 2^32/φ. */
function slotOf(key: number, bits: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - bits);
}
