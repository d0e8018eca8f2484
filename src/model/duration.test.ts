import { describe, expect, it } from 'vitest';
import { VnpError } from './errors.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['30d', 2_592_000_000],
    ['90', 90_000],
    ['1.5h', 5_400_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text, 'ttl')).toBe(ms);
  });

  it.each(['', '-1s', '1w', 'soon', '1e3', '10 d', 'Infinity'])('refuses %j', (text) => {
    const e = (() => {
      try {
        parseDuration(text, 'ttl');
      } catch (err) {
        return err;
      }
    })() as VnpError;
    expect(e.code).toBe('VNP_ERR_VALIDATION');
    expect(e.details?.field).toBe('ttl');
  });

  it('enforces bounds', () => {
    expect(() => parseDuration('0s', 'ttl', { min: 1000 })).toThrow(/ttl: expected/);
    expect(() => parseDuration('2h', 'grace', { max: 3_600_000 })).toThrow(/1h/);
  });

  it('formats the shortest exact unit', () => {
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});
