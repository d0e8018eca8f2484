import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAddressTable, subtractRanges, type AddressRange } from './address-table.js';
import { ALL_TRAFFIC } from './port-table.js';

const range = fc
  .record({
    lo: fc.bigInt({ min: 0n, max: 300n }),
    len: fc.bigInt({ min: 0n, max: 80n }),
    v6: fc.boolean(),
  })
  .map((r): AddressRange => ({ family: r.v6 ? 6 : 4, lo: r.lo, hi: r.lo + r.len }));

describe('address tables', () => {
  it('subtractRanges leaves exactly the addresses outside the exceptions', () => {
    fc.assert(
      fc.property(range, fc.array(range, { maxLength: 4 }), (r, minus) => {
        const parts = subtractRanges(r, minus);
        for (let a = 0n; a <= 400n; a++) {
          const want =
            r.lo <= a &&
            a <= r.hi &&
            !minus.some((m) => m.family === r.family && m.lo <= a && a <= m.hi);
          expect(parts.some((p) => p.lo <= a && a <= p.hi)).toBe(want);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('finds, for every address, the rules covering it in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(range, { minLength: 1, maxLength: 2 }), { maxLength: 6 }),
        (rules) => {
          const t = buildAddressTable(
            rules,
            rules.map(() => ALL_TRAFFIC),
          );
          for (const family of [4, 6] as const) {
            for (let a = 0n; a <= 400n; a += 3n) {
              const want = rules
                .map((rs, i) =>
                  rs.some((r) => r.family === family && r.lo <= a && a <= r.hi) ? i : -1,
                )
                .filter((i) => i >= 0);
              const seg = t.lookup(family, a);
              expect(seg?.rules ?? []).toEqual(want);
              expect(seg ? seg.ports.lookup(0, 80) : -1).toBe(want.length ? want[0] : -1);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
