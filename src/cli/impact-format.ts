/**
 * Rendering of impact previews (which flows flip) and of resource diffs, for
 * apply --dry-run, diff, rollback, tag -l and delete --dry-run. Loaded by the
 * actions that print them (never at start-up).
 */
import type { DiffEntry } from '../client/api-types.js';
import { formatPortSpec } from '../model/ports.js';
import type { Protocol } from '../model/types.js';
import { formatDiffEntries } from './diff-format.js';
import { formatTable, formatTags } from './output.js';

/** One side of an impact row: an identity (tags, records) or an outside address. */
interface Endpoint {
  identity: number;
  tags: Record<string, unknown>;
  records: number;
  examples: string[];
  address?: string;
}

/** An impact preview as the server returns it (src/engine/impact/impact.ts). */
export interface ImpactAnswer {
  rows: {
    src: Endpoint;
    dst: Endpoint;
    proto: string;
    ports: [number, number];
    before: string;
    after: string;
  }[];
  /** Rows after this page. */
  truncated: number;
  /** Rows in all (every page), when the manager says. */
  total?: number;
}

function endpointText(e: Endpoint): string {
  if (e.address !== undefined) return `outside ${e.address}`;
  const names = e.examples.join(',') + (e.records > e.examples.length ? ',…' : '');
  return `${names} (${e.records}) ${formatTags(e.tags)}`.trim();
}

/**
 * The impact: a summary line with counts, then the first `limit` rows (most
 * records first).
 *
 * @example formatImpact({ rows: [], truncated: 0 }) // 'impact: no flow changes its verdict\n'
 */
export function formatImpact(impact: ImpactAnswer, limit = Number.POSITIVE_INFINITY): string {
  if (impact.rows.length === 0 && impact.truncated === 0)
    return 'impact: no flow changes its verdict\n';
  const shown = impact.rows.slice(0, limit);
  const table = formatTable(
    ['SOURCE', 'DESTINATION', 'PORTS', 'BEFORE', 'AFTER'],
    shown.map((r) => [
      endpointText(r.src),
      endpointText(r.dst),
      formatPortSpec({ proto: r.proto as Protocol, lo: r.ports[0], hi: r.ports[1] }),
      r.before,
      r.after,
    ]),
  );
  const hidden = impact.rows.length - shown.length + impact.truncated;
  const more = hidden > 0 ? `… and ${hidden} more row(s) (--limit N shows more)\n` : '';
  return `${impactSummary(impact)}\n${shown.length > 0 ? table : ''}${more}`;
}

/**
 * One line of counts: flow classes that flip each way, and how many sources and
 * destinations they involve (rows past the manager's page are counted, not split).
 *
 * @example impactSummary({ rows: [{ before: 'allow', after: 'deny', … }], truncated: 0 })
 *   // 'impact: 1 flow class(es) change: 1 allow→deny, 0 deny→allow; 1 source(s), 1 destination(s)'
 */
export function impactSummary(impact: ImpactAnswer): string {
  const toDeny = impact.rows.filter((r) => r.after === 'deny').length;
  const toAllow = impact.rows.length - toDeny;
  const key = (e: Endpoint) => e.address ?? `identity:${e.identity}`;
  const srcs = new Set(impact.rows.map((r) => key(r.src))).size;
  const dsts = new Set(impact.rows.map((r) => key(r.dst))).size;
  const total = impact.total ?? impact.rows.length + impact.truncated;
  const uncounted = total > impact.rows.length ? ` (+${total - impact.rows.length} not split)` : '';
  return (
    `impact: ${total} flow class(es) change: ${toDeny} allow→deny, ${toAllow} deny→allow${uncounted}; ` +
    `${srcs} source(s), ${dsts} destination(s)`
  );
}

/** Resources that differ, with field-level changes (as apply --dry-run shows them). */
export function formatChanges(changes: readonly DiffEntry[]): string {
  if (changes.length === 0) return 'no resource differs\n';
  return formatDiffEntries(changes);
}
