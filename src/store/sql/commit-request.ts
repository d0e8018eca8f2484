/**
 * Validation of a CommitRequest before any SQL runs: the parts the database
 * cannot check for us (a key named twice in one batch would make the upsert
 * touch one row twice, which PostgreSQL refuses with an opaque error).
 */
import { VnpError, fieldError } from '../../model/errors.js';
import type { Document, Kind } from '../../model/types.js';
import { stripMeta } from '../../model/strip-meta.js';
import type { CommitRequest } from '../types.js';

/** A request checked and normalized for the queries. */
export interface PreparedCommit {
  baseRevision: number;
  at: string;
  actor: string;
  action: string;
  puts: Document[];
  deletes: { kind: Kind; name: string }[];
}

/**
 * Check a request and normalize it (`at` as ISO UTC, metadata stripped from puts).
 *
 * @example
 *   prepareCommit({ baseRevision: 0, actor: 'admin', action: 'apply', at: '2026-01-01T00:00:00Z', puts: [], deletes: [] })
 *   // → { ..., at: '2026-01-01T00:00:00.000Z' }
 */
export function prepareCommit(req: CommitRequest): PreparedCommit {
  if (!Number.isSafeInteger(req.baseRevision) || req.baseRevision < 0) {
    throw fieldError('baseRevision', 'a non-negative integer', req.baseRevision);
  }
  const at = new Date(req.at);
  if (typeof req.at !== 'string' || Number.isNaN(at.getTime())) {
    throw fieldError('at', 'an ISO-8601 time', req.at);
  }
  const seen = new Set<string>();
  const claim = (kind: Kind, name: string, field: string): void => {
    const key = `${kind}/${name}`;
    if (seen.has(key)) {
      throw new VnpError('VNP_ERR_VALIDATION', `${field}: ${key} appears twice in one batch`, {
        field,
        kind,
        name,
      });
    }
    seen.add(key);
  };
  req.puts.forEach((d, i) => claim(d.kind, d.name, `puts[${i}]`));
  req.deletes.forEach((d, i) => claim(d.kind, d.name, `deletes[${i}]`));
  return {
    baseRevision: req.baseRevision,
    at: at.toISOString(),
    actor: req.actor,
    action: req.action,
    puts: req.puts.map((d) => stripMeta(d)),
    deletes: req.deletes.map((d) => ({ kind: d.kind, name: d.name })),
  };
}
