/**
 * The change log's records: every committed batch bumps the global revision by one and
 * appends one ChangeRecord (the store writes them; the server, reactions and the
 * distribution feed read them).
 */
import type { Document, Kind, Meta } from './types.js';

/** A stored resource: the document plus server-set metadata. */
export type StoredDocument = Document & Meta;

/** One change inside a committed batch. `before`/`after` are absent for create/delete. */
export interface ChangeEntry {
  op: 'put' | 'delete';
  kind: Kind;
  name: string;
  before?: StoredDocument;
  after?: StoredDocument;
}

/** One committed batch, as in the change log. */
export interface ChangeRecord {
  revision: number;
  at: string;
  actor: string;
  /** `apply`, `tag`, `attach`, `reaction:<name>`, `rollback:<rev>`, … */
  action: string;
  changes: ChangeEntry[];
}

export interface CommitRequest {
  /** The revision the caller's in-memory model is at; the commit fails with
   *  VNP_ERR_CONFLICT if the store has moved past it (another manager wrote). */
  baseRevision: number;
  actor: string;
  action: string;
  /** Puts carry the full document (no metadata); deletes name kind and name. */
  puts: Document[];
  deletes: { kind: Kind; name: string }[];
  /** ISO time of the change (injected, for tests). */
  at: string;
}
