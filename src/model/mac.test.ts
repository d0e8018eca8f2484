import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateMac, isUnicastMac, normalizeMac } from './mac.js';

describe('generateMac', () => {
  it('is deterministic, locally administered and unicast', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        const mac = generateMac(name);
        expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        expect(generateMac(name)).toBe(mac);
        const first = parseInt(mac.slice(0, 2), 16);
        expect(first & 0b10).toBe(0b10); // locally administered
        expect(first & 0b01).toBe(0); // unicast
        expect(normalizeMac(mac)).toBe(mac);
      }),
    );
  });
  it('differs between names (no collisions among 10k names)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(generateMac(`web-${i}`));
    expect(seen.size).toBe(10_000);
  });
  it('is pinned (changing the hash would change every MAC)', () => {
    expect(generateMac('web-1')).toBe(generateMac('web-1'));
    expect(generateMac('a')).not.toBe(generateMac('b'));
    expect(generateMac('web-1')).toMatchInlineSnapshot(`"76:b7:b7:1f:87:c2"`);
  });
});

describe('normalizeMac', () => {
  const good: [string, string][] = [
    ['02:00:5e:10:00:01', '02:00:5e:10:00:01'],
    ['02:00:5E:10:00:01', '02:00:5e:10:00:01'],
    ['02-00-5E-10-00-01', '02:00:5e:10:00:01'],
    ['0200.5e10.0001', '02:00:5e:10:00:01'],
    ['02005e100001', '02:00:5e:10:00:01'],
  ];
  it.each(good)('%s', (text, canon) => expect(normalizeMac(text)).toBe(canon));
  const bad = [
    '',
    '02:00:5e:10:00',
    '02:00:5e:10:00:01:02',
    '02:00-5e:10:00:01',
    'g2:00:5e:10:00:01',
    '2:0:5e:10:0:1',
    '02005e10000',
  ];
  it.each(bad)('rejects %j', (text) => expect(normalizeMac(text)).toBeUndefined());
  it('isUnicastMac', () => {
    expect(isUnicastMac('02:00:00:00:00:01')).toBe(true);
    expect(isUnicastMac('01:00:5e:00:00:01')).toBe(false);
    expect(isUnicastMac('ff:ff:ff:ff:ff:ff')).toBe(false);
    expect(isUnicastMac('00:00:00:00:00:00')).toBe(false);
  });
});
