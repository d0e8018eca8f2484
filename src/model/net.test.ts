import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  cidrLast,
  cidrOverlaps,
  familyBits,
  formatCidr,
  formatIp,
  ipKey,
  parseCidr,
  parseIp,
  parsePrefix,
  rangeToCidrs,
  type Family,
} from './net.js';

describe('parseIp / formatIp', () => {
  const good: [string, string][] = [
    ['0.0.0.0', '0.0.0.0'],
    ['10.0.0.1', '10.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // longest run compressed
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1:2', 'fe80::1:2'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  it.each(good)('%s → %s', (text, canon) => {
    const ip = parseIp(text);
    expect(ip).toBeDefined();
    expect(formatIp(ip!)).toBe(canon);
    expect(ipKey(ip!)).toBe(canon);
    expect(parseIp(canon)).toEqual(ip);
  });

  const bad = [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '1.2.3.04',
    '256.0.0.1',
    '1.2.3.-1',
    '1..3.4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/32',
    '0x1.2.3.4',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1::2::3',
    ':::',
    ':1::',
    '1:',
    '12345::',
    'g::1',
    'fe80::1%eth0',
    '1.2.3.4::',
    '::1.2.3',
    '::1.2.3.4:5',
    '::ffff:256.1.1.1',
    '1:2:3:4:5:6:7:1.2.3.4',
  ];
  it.each(bad)('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('v4 values', () => {
    expect(parseIp('10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
    expect(parseIp('::ffff:1.2.3.4')).toEqual({ family: 6, value: 0xffff01020304n });
  });
});

describe('parseCidr / formatCidr', () => {
  const good: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['10.1.2.3/32', '10.1.2.3/32'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['::/0', '::/0'],
    ['2001:db8::1', '2001:db8::1/128'],
  ];
  it.each(good)('%s → %s', (text, canon) => {
    expect(formatCidr(parseCidr(text)!)).toBe(canon);
  });
  const bad = [
    '10.0.0.1/8',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '2001:db8::1/64',
    '::/129',
    'x/8',
    '10.0.0.0/8/8',
  ];
  it.each(bad)('rejects %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
  it('parsePrefix keeps host bits for "did you mean"', () => {
    expect(parsePrefix('10.1.2.3/8')).toEqual({ ip: { family: 4, value: 0x0a010203n }, prefix: 8 });
    expect(parsePrefix('10.1.2.3/33')).toBeUndefined();
  });
});

describe('containment and overlap', () => {
  const c = (t: string) => parseCidr(t)!;
  const ip = (t: string) => parseIp(t)!;
  it('cidrLast', () => {
    expect(formatIp({ family: 4, value: cidrLast(c('10.0.0.0/30')) })).toBe('10.0.0.3');
    expect(formatIp({ family: 6, value: cidrLast(c('2001:db8::/64')) })).toBe(
      '2001:db8::ffff:ffff:ffff:ffff',
    );
    expect(cidrLast(c('1.2.3.4/32'))).toBe(c('1.2.3.4/32').base);
  });
  it('cidrContains', () => {
    expect(cidrContains(c('10.0.0.0/8'), ip('10.255.255.255'))).toBe(true);
    expect(cidrContains(c('10.0.0.0/8'), ip('11.0.0.0'))).toBe(false);
    expect(cidrContains(c('0.0.0.0/0'), ip('1.2.3.4'))).toBe(true);
    expect(cidrContains(c('::/0'), ip('1.2.3.4'))).toBe(false); // families never mix
    expect(cidrContains(c('::/0'), ip('::ffff:1.2.3.4'))).toBe(true);
  });
  it('cidrOverlaps', () => {
    expect(cidrOverlaps(c('10.0.0.0/8'), c('10.2.0.0/16'))).toBe(true);
    expect(cidrOverlaps(c('10.2.0.0/16'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrOverlaps(c('10.0.0.0/24'), c('10.0.1.0/24'))).toBe(false);
    expect(cidrOverlaps(c('0.0.0.0/0'), c('::/0'))).toBe(false);
  });
});

describe('rangeToCidrs', () => {
  const cover = (lo: string, hi: string) =>
    rangeToCidrs(parseIp(lo)!.family, parseIp(lo)!.value, parseIp(hi)!.value).map(formatCidr);
  it('examples', () => {
    expect(cover('10.0.0.0', '10.0.0.255')).toEqual(['10.0.0.0/24']);
    expect(cover('10.0.0.1', '10.0.0.6')).toEqual([
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/31',
      '10.0.0.6/32',
    ]);
    expect(cover('0.0.0.0', '255.255.255.255')).toEqual(['0.0.0.0/0']);
    expect(cover('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual(['::/0']);
    expect(cover('10.0.0.5', '10.0.0.5')).toEqual(['10.0.0.5/32']);
    expect(rangeToCidrs(4, 5n, 4n)).toEqual([]);
  });

  const rangeArb = fc.constantFrom<Family>(4, 6).chain((family) => {
    const max = (1n << BigInt(familyBits(family))) - 1n;
    const addr = fc.bigInt({ min: 0n, max });
    // near-aligned values exercise the block boundaries
    const edgy = fc
      .tuple(fc.integer({ min: 0, max: familyBits(family) }), fc.bigInt({ min: -2n, max: 2n }))
      .map(([b, d]) => {
        const v = (1n << BigInt(b)) + d;
        return v < 0n ? 0n : v > max ? max : v;
      });
    return fc.tuple(fc.constant(family), fc.oneof(addr, edgy), fc.oneof(addr, edgy));
  });

  it('covers exactly [lo, hi] with aligned, disjoint, ordered, minimal blocks', () => {
    fc.assert(
      fc.property(rangeArb, ([family, a, b]) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const cidrs = rangeToCidrs(family, lo, hi);
        let next = lo;
        for (const c of cidrs) {
          expect(c.family).toBe(family);
          expect(c.base).toBe(next); // contiguous, ordered, no gaps or overlaps
          expect(parseCidr(formatCidr(c))).toEqual(c); // host bits zero
          next = cidrLast(c) + 1n;
        }
        expect(next - 1n).toBe(hi);
        // minimal: no two neighbours of equal size could merge into one aligned block
        for (let i = 1; i < cidrs.length; i++) {
          const [p, q] = [cidrs[i - 1]!, cidrs[i]!];
          if (p.prefix === q.prefix && p.prefix > 0) {
            const parentMask = (1n << BigInt(familyBits(family) - p.prefix + 1)) - 1n;
            expect((p.base & parentMask) === 0n).toBe(false);
          }
        }
        expect(cidrs.length).toBeLessThanOrEqual(2 * familyBits(family));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('format/parse round trip', () => {
  it('any v4 or v6 value', () => {
    const ipArb = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map((value) => ({ family: 4 as const, value })),
      fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map((value) => ({ family: 6 as const, value })),
      // many zero groups, to exercise '::' placement
      fc
        .array(fc.constantFrom<bigint>(0n, 0n, 0n, 1n, 0xffffn), { minLength: 8, maxLength: 8 })
        .map((g) => ({ family: 6 as const, value: g.reduce((a, x) => (a << 16n) | x, 0n) })),
    );
    fc.assert(
      fc.property(ipArb, (ip) => {
        const text = formatIp(ip);
        expect(parseIp(text)).toEqual(ip);
        expect(text).toBe(text.toLowerCase());
        expect(text.includes(':::')).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
  it('any prefix', () => {
    const cidrArb = fc.constantFrom<Family>(4, 6).chain((family) =>
      fc
        .tuple(
          fc.bigInt({ min: 0n, max: (1n << BigInt(familyBits(family))) - 1n }),
          fc.integer({ min: 0, max: familyBits(family) }),
        )
        .map(([v, prefix]) => {
          const host = (1n << BigInt(familyBits(family) - prefix)) - 1n;
          return { family, base: v & ~host, prefix };
        }),
    );
    fc.assert(
      fc.property(cidrArb, (c) => {
        expect(parseCidr(formatCidr(c))).toEqual(c);
      }),
    );
  });
});
