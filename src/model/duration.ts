/**
 * Durations as people write them: `500ms`, `30s`, `15m`, `1h`, `30d`, or a bare
 * number of seconds. One parser for token TTLs, grace periods and rate-limit windows.
 */
import { VnpError } from './errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parse a duration to milliseconds; throws VNP_ERR_VALIDATION naming `field`.
 *
 * @example
 *   parseDuration('30d', 'ttl') // 2592000000
 *   parseDuration('90', 'grace') // 90000
 */
export function parseDuration(
  text: string,
  field: string,
  bounds: { min?: number; max?: number } = {},
): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!) : Number.NaN;
  const min = bounds.min ?? 0;
  const max = bounds.max ?? 100 * 365 * UNITS.d!;
  if (!m || !Number.isSafeInteger(ms) || ms < min || ms > max) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${field}: expected a duration like 30s, 15m, 1h or 30d (${formatDuration(min)}..${formatDuration(max)}), got ${JSON.stringify(text)}`,
      { field, expected: 'a duration (ms, s, m, h, d)' },
    );
  }
  return ms;
}

/**
 * The shortest exact rendering of a duration.
 *
 * @example
 *   formatDuration(3_600_000) // '1h'
 */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit]! && ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}
