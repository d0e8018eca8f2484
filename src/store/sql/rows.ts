/**
 * Conversions between database rows and the store's types. Drivers differ:
 * `pg` returns bigint as a string and timestamptz as Date; PGlite returns
 * bigint as a number. These helpers accept either and fail loudly on anything
 * that would lose precision.
 */
import { VnpError } from '../../model/errors.js';
import type { Document } from '../../model/types.js';
import type { ChangeEntry, ChangeRecord, StoredDocument, TokenRecord } from '../types.js';

/**
 * A bigint column as a JS number; throws if it is not a safe integer.
 *
 * @example
 *   toRevision('42') // 42
 */
export function toRevision(v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new VnpError('VNP_ERR_INTERNAL', `store: revision ${String(v)} is not a safe integer`);
  }
  return n;
}

/**
 * A timestamptz column (Date or text) as an ISO-8601 UTC string.
 *
 * @example
 *   toIso(new Date(0)) // '1970-01-01T00:00:00.000Z'
 */
export function toIso(v: unknown): string {
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) {
    throw new VnpError('VNP_ERR_INTERNAL', `store: bad timestamp ${String(v)}`);
  }
  return d.toISOString();
}

/** A jsonb column: drivers usually parse it; accept text too. */
export function toJson<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** One element of the JSON arrays the resource queries return (see queries.ts). */
export interface ResourceRow {
  kind: string;
  name: string;
  doc: unknown;
  revision: unknown;
  created_at: unknown;
  updated_at: unknown;
}

/**
 * The `j` column of an aggregated resource query as rows.
 *
 * @example
 *   parseResourceRows('[{"kind":"Subnet","name":"a","doc":{…},"revision":1,…}]')
 */
export function parseResourceRows(j: unknown): ResourceRow[] {
  return toJson<ResourceRow[] | null>(j) ?? [];
}

/**
 * A resource row as a stored document (document fields plus meta).
 *
 * @example
 *   toStored({ doc: { kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24' }, revision: '3', created_at: d, updated_at: d })
 */
export function toStored(row: ResourceRow): StoredDocument {
  return {
    ...toJson<Document>(row.doc),
    revision: toRevision(row.revision),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/** Row shape of vnp_changes. */
export interface ChangeRow {
  revision: unknown;
  at: unknown;
  actor: string;
  action: string;
  changes: unknown;
}

/** A change-log row as a ChangeRecord. */
export function toChangeRecord(row: ChangeRow): ChangeRecord {
  return {
    revision: toRevision(row.revision),
    at: toIso(row.at),
    actor: row.actor,
    action: row.action,
    changes: toJson<ChangeEntry[]>(row.changes),
  };
}

/** Row shape of vnp_tokens. */
export interface TokenRow {
  id: string;
  role: TokenRecord['role'];
  host: string | null;
  hash: string;
  created_at: unknown;
  created_by: string;
  revoked_at: unknown;
  expires_at: unknown;
  last_used_at: unknown;
}

/** A token row as a TokenRecord (absent optional fields are omitted, not null). */
export function toTokenRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    role: row.role,
    ...(row.host === null ? {} : { host: row.host }),
    hash: row.hash,
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
    ...optionalTime('revokedAt', row.revoked_at),
    ...optionalTime('expiresAt', row.expires_at),
    ...optionalTime('lastUsedAt', row.last_used_at),
  };
}

/** `{[name]: ISO time}`, or nothing for a NULL column. */
function optionalTime<K extends string>(name: K, v: unknown): { [P in K]?: string } {
  return v === null || v === undefined ? {} : ({ [name]: toIso(v) } as { [P in K]?: string });
}
