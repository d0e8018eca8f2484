import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairCache } from './pair-cache.js';

const id = fc.integer({ min: 1, max: 65535 });

describe('PairCache', () => {
  it('answers like a Map of pairs under random sets, growth included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(id, id, fc.nat(1000)), { maxLength: 3000 }), (ops) => {
        const c = new PairCache(1_000_000, 2);
        const m = new Map<string, number>();
        for (const [s, d, v] of ops) {
          c.set(s, d, v);
          m.set(`${s}/${d}`, v);
        }
        expect(c.size).toBe(m.size);
        for (const [s, d] of ops) expect(c.get(s, d)).toBe(m.get(`${s}/${d}`));
        // Swapped pairs are other keys.
        for (const [s, d] of ops) if (!m.has(`${d}/${s}`)) expect(c.get(d, s)).toBe(-1);
      }),
      { numRuns: 50 },
    );
  });

  it('deleteWhere forgets exactly the matching pairs and keeps every other findable', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(id, id, fc.nat(1000)), { maxLength: 2000 }),
        fc.array(id, { maxLength: 20 }),
        (ops, doomed) => {
          // A small table: long probe chains run through the deleted slots.
          const c = new PairCache(1_000_000, 2);
          const m = new Map<string, number>();
          for (const [s, d, v] of ops) {
            c.set(s, d, v);
            m.set(`${s}/${d}`, v);
          }
          const gone = new Set(doomed);
          const dropped = c.deleteWhere((s, d) => gone.has(s) || gone.has(d));
          let expected = 0;
          for (const [s, d] of ops) {
            const hit = gone.has(s) || gone.has(d);
            expect(c.get(s, d)).toBe(hit ? -1 : m.get(`${s}/${d}`));
            if (hit && m.delete(`${s}/${d}`)) expected++;
          }
          expect(dropped).toBe(expected);
          expect(c.size).toBe(m.size);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps the extremes of the identity range apart', () => {
    const c = new PairCache(100);
    c.set(65535, 1, 1);
    c.set(1, 65535, 2);
    c.set(65535, 65535, 3);
    expect([c.get(65535, 1), c.get(1, 65535), c.get(65535, 65535), c.get(1, 1)]).toEqual([
      1, 2, 3, -1,
    ]);
  });

  it('starts over past its limit, so memory stays bounded', () => {
    const c = new PairCache(10);
    for (let i = 1; i <= 10; i++) c.set(i, i, i);
    expect(c.size).toBe(10);
    c.set(11, 11, 11);
    expect(c.size).toBe(1);
    expect(c.get(1, 1)).toBe(-1);
    expect(c.get(11, 11)).toBe(11);
  });
});
