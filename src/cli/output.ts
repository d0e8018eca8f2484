/**
 * Rendering for people (aligned tables, short values) and for scripts (`-o json`,
 * `-o yaml`). Pure: returns strings, never writes.
 */
import { yaml } from './yaml.js';
import { VnpError } from '../model/errors.js';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Parse an `-o` value.
 *
 * @example
 *   parseOutputFormat('yml') // → 'yaml'
 */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  const v = (value ?? 'table').trim().toLowerCase();
  if (v === 'yml') return 'yaml';
  if (v === 'wide' || v === 'text') return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  throw new VnpError('VNP_ERR_VALIDATION', `-o: expected json, yaml or table, got "${value}"`, {
    field: 'output',
    expected: 'json|yaml|table',
  });
}

/**
 * An aligned table: columns separated by two spaces, the last column unpadded.
 *
 * @example
 *   formatTable(['NAME', 'CIDR'], [['a', '10.0.0.0/24']])
 *   // 'NAME  CIDR\na     10.0.0.0/24\n'
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) =>
        i === cells.length - 1
          ? c
          : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(c))),
      )
      .join('  ')
      .trimEnd();
  return (
    [line(headers), ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n') + '\n'
  );
}

function displayWidth(s: string): number {
  return [...s].length;
}

/** JSON for scripts: two-space indent, trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** YAML for scripts; an array of documents becomes a multi-document stream (re-appliable). */
export function toYaml(value: unknown, opts: { multiDocument?: boolean } = {}): string {
  if (opts.multiDocument && Array.isArray(value)) {
    return value.map((doc) => yaml().stringify(doc, { lineWidth: 0 })).join('---\n');
  }
  return yaml().stringify(value, { lineWidth: 0 });
}

/**
 * A tag value as written on the command line: strings bare, others as JSON.
 *
 * @example
 *   formatTagValue('prod') // 'prod'
 *   formatTagValue(2)      // '2'
 *   formatTagValue({ team: 'pay' }) // '{"team":"pay"}'
 */
export function formatTagValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Tags as `k=v,k=v` (sorted by key). */
export function formatTags(tags: Record<string, unknown> | undefined): string {
  if (tags === undefined) return '';
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}=${formatTagValue(tags[k])}`)
    .join(',');
}

/** A cell value: empty for absent, `-` never (scripts use -o json). */
export function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => cell(x)).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Shorten a long cell for a table (the full value is in -o json/yaml). */
export function truncate(s: string, max = 60): string {
  return [...s].length <= max ? s : [...s].slice(0, max - 1).join('') + '…';
}
