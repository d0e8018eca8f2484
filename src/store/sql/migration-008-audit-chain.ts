/**
 * Migration 8 (additive): the tamper-evident audit log (docs/adr/0024-audit-chain.md).
 * Each change-log row carries the hash of the row before it and its own
 * (src/store/audit-chain.ts). Rows committed before this migration have none: the chain
 * starts at the first row written after it, and verification says how many predate it.
 */
import type { Migration } from './migration.js';

/** Columns `vnp_changes.prev_hash` and `vnp_changes.hash` (hex SHA-256). */
export const MIGRATION_008_AUDIT_CHAIN: Migration = {
  version: 8,
  name: 'audit hash chain',
  statements: [
    `ALTER TABLE vnp_changes ADD COLUMN prev_hash text`,
    `ALTER TABLE vnp_changes ADD COLUMN hash text`,
  ],
};
