/**
 * Migration 4 (additive): each PEP's underlay address as last reported to any manager,
 * so every manager sharing the database fills the same VXLAN destinations into remote
 * records (docs/adr/0007-distribution.md).
 */
import type { Migration } from './migration.js';

/** Table `vnp_underlays`. */
export const MIGRATION_004_UNDERLAYS: Migration = {
  version: 4,
  name: 'PEP underlay addresses',
  statements: [
    `CREATE TABLE vnp_underlays (
       host text PRIMARY KEY,
       underlay text NOT NULL,
       updated_at timestamptz NOT NULL
     )`,
  ],
};
