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
 * Forgetting one identity's pairs is O(1): every identity has a generation, each entry
 * remembers both endpoints' generations when it was set, and `forget(id)` bumps id's
 * generation, so its entries stop answering (a stale entry keeps its slot until the
 * same pair is set again or the map starts over). A write that changes a few
 * identities therefore costs the number of those identities, not the size of the map.
 *
 * @example
 *   const c = new PairCache(1000); c.set(256, 300, 7); c.get(256, 300) // 7
 */
export class PairCache {
  private keys: Uint32Array;
  private vals: Int32Array;
  /** Per slot: the generations of the entry's source and destination when it was set. */
  private srcGens: Uint32Array;
  private dstGens: Uint32Array;
  /** Per identity: its current generation. */
  private readonly gens = new Uint32Array(65536);
  private bits: number;
  private count = 0;

  constructor(
    private readonly limit: number,
    private readonly initialBits = 10,
  ) {
    this.bits = initialBits;
    this.keys = new Uint32Array(1 << initialBits);
    this.vals = new Int32Array(1 << initialBits);
    this.srcGens = new Uint32Array(1 << initialBits);
    this.dstGens = new Uint32Array(1 << initialBits);
  }

  /** Entries held (forgotten ones included until their slot is reused or the map starts over). */
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
      if (k === key) {
        const gens = this.gens;
        return this.srcGens[i] === gens[src] && this.dstGens[i] === gens[dst] ? this.vals[i]! : -1;
      }
      if (k === 0) return -1;
    }
  }

  /** Sets (src, dst) → value (value ≥ 0). */
  set(src: number, dst: number, value: number): void {
    if (this.count >= this.limit) this.clear();
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const gens = this.gens;
    if (this.put(((src << 16) | dst) >>> 0, value, gens[src]!, gens[dst]!)) this.count++;
  }

  /**
   * Forgets every pair with `id` at either end, in O(1).
   *
   * @example c.forget(300); c.get(256, 300) // -1
   */
  forget(id: number): void {
    this.gens[id] = (this.gens[id]! + 1) >>> 0;
  }

  /** Forgets every entry (keeps the current capacity). */
  clear(): void {
    this.keys.fill(0);
    this.count = 0;
  }

  /** True when the key was new. */
  private put(key: number, value: number, srcGen: number, dstGen: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = slotOf(key, this.bits); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key || k === 0) {
        keys[i] = key;
        this.vals[i] = value;
        this.srcGens[i] = srcGen;
        this.dstGens[i] = dstGen;
        return k === 0;
      }
    }
  }

  private grow(): void {
    const { keys, vals, srcGens, dstGens } = this;
    this.bits++;
    this.keys = new Uint32Array(1 << this.bits);
    this.vals = new Int32Array(1 << this.bits);
    this.srcGens = new Uint32Array(1 << this.bits);
    this.dstGens = new Uint32Array(1 << this.bits);
    for (let i = 0; i < keys.length; i++)
      if (keys[i] !== 0) this.put(keys[i]!, vals[i]!, srcGens[i]!, dstGens[i]!);
  }
}

/** Fibonacci hashing: the top `bits` bits of key × 2^32/φ. */
function slotOf(key: number, bits: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - bits);
}
