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

  it('forget drops exactly the pairs of the forgotten identities, until they are set again', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(id, id, fc.nat(1000)), { maxLength: 2000 }),
        fc.array(id, { maxLength: 20 }),
        (ops, doomed) => {
          const c = new PairCache(1_000_000, 2);
          const m = new Map<string, number>();
          for (const [s, d, v] of ops) {
            c.set(s, d, v);
            m.set(`${s}/${d}`, v);
          }
          const gone = new Set(doomed);
          for (const g of gone) c.forget(g);
          for (const [s, d] of ops)
            expect(c.get(s, d)).toBe(gone.has(s) || gone.has(d) ? -1 : m.get(`${s}/${d}`));
          // Set again after forgetting: answered again, other forgotten pairs stay gone.
          for (const [s, d, v] of ops.slice(0, 10)) {
            c.set(s, d, v + 1);
            m.set(`${s}/${d}`, v + 1);
            expect(c.get(s, d)).toBe(v + 1);
          }
          const again = new Set(ops.slice(0, 10).map(([s, d]) => `${s}/${d}`));
          for (const [s, d] of ops)
            if (!again.has(`${s}/${d}`) && (gone.has(s) || gone.has(d)))
              expect(c.get(s, d)).toBe(-1);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps forgotten generations through growth', () => {
    const c = new PairCache(1_000_000, 2);
    c.set(300, 301, 1);
    c.forget(300);
    for (let i = 1; i <= 100; i++) c.set(1000 + i, 2000 + i, i); // grows several times
    expect(c.get(300, 301)).toBe(-1);
    c.set(300, 302, 2);
    c.forget(999);
    for (let i = 101; i <= 200; i++) c.set(1000 + i, 2000 + i, i);
    expect(c.get(300, 302)).toBe(2);
    expect(c.get(1050, 2050)).toBe(50);
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
