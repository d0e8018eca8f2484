/** The flows a change would flip (`impact` of a dry run, a preview or a rollback). */

export interface Impact {
  rows: Record<string, unknown>[];
  truncated: number;
  total: number;
}

/**
 * One impact cell: an endpoint class as its example records (or address), a port
 * range as `lo-hi`, anything else as JSON.
 *
 * @example cell({ identity: 257, examples: ['db-1'], records: 1 }) // 'db-1'
 */
export function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    return v[0] === 0 && v[1] === 65535 ? 'all' : v[0] === v[1] ? String(v[0]) : `${v[0]}-${v[1]}`;
  if (typeof v === 'object') {
    const o = v as { examples?: string[]; records?: number; address?: string };
    if (o.address !== undefined) return `address ${o.address}`;
    if (Array.isArray(o.examples))
      return `${o.examples.slice(0, 2).join(', ')}${(o.records ?? 0) > 2 ? ` +${(o.records ?? 0) - 2}` : ''}`;
    return JSON.stringify(v);
  }
  return String(v);
}

export function ImpactTable({ impact }: { impact: Impact }) {
  if (impact.total === 0) return <p data-testid="impact">Impact: no flow changes its verdict.</p>;
  const keys = [...new Set(impact.rows.slice(0, 50).flatMap((r) => Object.keys(r)))];
  return (
    <table data-testid="impact">
      <caption>
        Impact: {impact.total} flow class(es) change verdict
        {impact.truncated > 0 ? ` (${impact.truncated} not shown)` : ''}
      </caption>
      <thead>
        <tr>
          {keys.map((k) => (
            <th key={k} scope="col">
              {k}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {impact.rows.slice(0, 50).map((r, i) => (
          <tr key={i}>
            {keys.map((k) => (
              <td key={k}>{cell(r[k])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
