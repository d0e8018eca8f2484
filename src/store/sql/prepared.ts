/**
 * The statements every commit runs, prepared once per connection under a fixed name
 * instead of parsed and planned again on every run (docs/adr/0063-prepared-commit-statements.md).
 * On PGlite parsing and planning run in WebAssembly on the main thread: planning the
 * one-statement group upsert cost about four times its execution. Only these constant
 * texts are named, so a connection holds a bounded set of them, and none is used by a
 * migration (a prepared statement keeps its result type).
 */
import { CLAIM_CHANGES } from './identity-queries.js';
import * as Q from './queries.js';

const NAMES = new Map<string, string>([
  [Q.BUMP_AND_UPSERT, 'vnp_bump_and_upsert'],
  [Q.BUMP_REVISION, 'vnp_bump_revision'],
  [Q.INSERT_CHANGE, 'vnp_insert_change'],
  [Q.INSERT_CHANGES, 'vnp_insert_changes'],
  [Q.PREVIOUS_HASH, 'vnp_previous_hash'],
  [Q.NOTIFY_CHANGES, 'vnp_notify_changes'],
  [Q.CURRENT_WAL_FILE, 'vnp_current_wal_file'],
  [CLAIM_CHANGES, 'vnp_claim_identity_changes'],
]);

/**
 * The name a statement is prepared under, or undefined for one run unnamed.
 *
 * @example preparedName(Q.BUMP_REVISION) // 'vnp_bump_revision'
 */
export function preparedName(text: string): string | undefined {
  return NAMES.get(text);
}
