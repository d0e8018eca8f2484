import { describe, expect, it } from 'vitest';
import { countdown, pendingExpiries } from './expiries.js';

describe('reaction expiries', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const ev = (sec: number, record: string, reactions: string[]) => ({
    at: new Date(t0 + sec * 1000).toISOString(),
    type: 'ids.alert',
    target: record,
    record,
    reactions,
  });
  it('a later event moves the expiry; expired and ttl-less ones are gone', () => {
    const events = [ev(0, 'a', ['q', 'note']), ev(100, 'a', ['q']), ev(0, 'b', ['q'])];
    expect(pendingExpiries(events, { q: 300 }, t0 + 301_000)).toEqual([
      { record: 'a', reaction: 'q', expiresAt: t0 + 400_000 },
    ]);
  });
  it.each([
    [0, '0s'],
    [59_001, '1m 00s'],
    [3_725_000, '1h 02m 05s'],
  ])('countdown(%d) = %s', (ms, text) => expect(countdown(ms)).toBe(text));
});
