import { describe, expect, it } from 'vitest';
import { countdown, pendingAt } from './expiries.js';

describe('reaction expiries', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = (sec: number) => new Date(t0 + sec * 1000).toISOString();
  it('keeps the expiries still ahead, soonest first', () => {
    const items = [
      { record: 'a', reaction: 'q', expiresAt: at(400) },
      { record: 'b', reaction: 'q', expiresAt: at(300) },
      { record: 'c', reaction: 'q', expiresAt: at(350) },
    ];
    expect(pendingAt(items, t0 + 320_000)).toEqual([
      { record: 'c', reaction: 'q', expiresAt: t0 + 350_000 },
      { record: 'a', reaction: 'q', expiresAt: t0 + 400_000 },
    ]);
  });
  it.each([
    [0, '0s'],
    [59_001, '1m 00s'],
    [3_725_000, '1h 02m 05s'],
  ])('countdown(%d) = %s', (ms, text) => expect(countdown(ms)).toBe(text));
});
