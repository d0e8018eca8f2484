/**
 * Plain-text tables and number formatting for the benchmark report.
 */

/**
 * Formats rows under headers, columns padded; numeric-looking cells right-aligned.
 *
 * @example
 *   formatTable(['what', 'ops/s'], [['vnp', '6.1 M']]);
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = (s: string): boolean => /^[-+]?[\d.,]+\s*[a-zA-Z%×/]*$/.test(s.trim());
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (numeric(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/**
 * A rate with an SI suffix: 6_100_000 → "6.10 M".
 *
 * @example
 *   formatRate(1234) // '1.23 k'
 */
export function formatRate(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

/**
 * A ratio: 1234.5 → "1,235×", 1.234 → "1.23×".
 *
 * @example
 *   formatRatio(3.14159) // '3.14×'
 */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  if (r >= 100) return `${Math.round(r).toLocaleString('en-US')}×`;
  return `${r.toFixed(2)}×`;
}

/**
 * Milliseconds with sensible precision.
 *
 * @example
 *   formatMs(0.01234) // '0.012 ms'
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(3)} ms`;
}

/**
 * Bytes in MiB.
 *
 * @example
 *   formatMiB(1048576) // '1.0 MiB'
 */
export function formatMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MiB` : 'n/a';
}

/**
 * A duration in nanoseconds with a readable unit.
 *
 * @example
 *   formatNs(467) // '467 ns'
 *   formatNs(1_485_549) // '1.49 ms'
 */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}
