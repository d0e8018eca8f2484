import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paintPorts, type PortSpan } from './port-table.js';

const span = fc
  .record({
    proto: fc.integer({ min: 0, max: 3 }),
    lo: fc.integer({ min: 0, max: 200 }),
    len: fc.integer({ min: 0, max: 60 }),
  })
  .map((s) => ({ proto: s.proto, lo: s.lo, hi: s.lo + s.len }));
const rules = fc.array(fc.array(span, { minLength: 1, maxLength: 3 }), { maxLength: 12 });

/** Brute force: the first rule (in order) covering the port. */
function firstCovering(rs: PortSpan[][], proto: number, port: number): number {
  return rs.findIndex((spans) =>
    spans.some((s) => s.proto === proto && s.lo <= port && port <= s.hi),
  );
}

describe('paintPorts', () => {
  it('gives every (proto, port) the first rule covering it', () => {
    fc.assert(
      fc.property(rules, (rs) => {
        const t = paintPorts(rs);
        for (let proto = 0; proto < 4; proto++)
          for (let port = 0; port <= 262; port++)
            expect(t.lookup(proto, port)).toBe(firstCovering(rs, proto, port));
      }),
      { numRuns: 300 },
    );
  });

  it('produces disjoint, sorted segments (what nftables interval maps need)', () => {
    fc.assert(
      fc.property(rules, (rs) => {
        const segs = paintPorts(rs).segments();
        for (let i = 1; i < segs.length; i++) {
          const [a, b] = [segs[i - 1]!, segs[i]!];
          if (a.proto === b.proto) expect(a.hi).toBeLessThan(b.lo);
          else expect(a.proto).toBeLessThan(b.proto);
        }
      }),
    );
  });

  it('uses binary search past 8 segments with the same answers', () => {
    const rs = Array.from({ length: 40 }, (_, i) => [{ proto: 0, lo: i * 10, hi: i * 10 + 4 }]);
    const t = paintPorts(rs);
    expect(t.lookup(0, 123)).toBe(12);
    expect(t.lookup(0, 126)).toBe(-1);
    expect(t.lookup(0, 392)).toBe(39);
    expect(t.lookup(0, 0)).toBe(0);
    expect(t.lookup(1, 0)).toBe(-1);
  });

  it('maps values when given', () => {
    expect(paintPorts([[{ proto: 1, lo: 53, hi: 53 }]], [7]).lookup(1, 53)).toBe(7);
  });
});
