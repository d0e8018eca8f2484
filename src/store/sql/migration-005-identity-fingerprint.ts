/**
 * Migration 5 (additive): the fingerprint of the identity table, so a claim can write
 * only the rows a revision changed (docs/adr/0007-distribution.md). NULL (an upgraded
 * database) matches no claimer's base: the first claim rewrites the whole table.
 */
import type { Migration } from './migration.js';

/** Column `vnp_identities_revision.fingerprint`. */
export const MIGRATION_005_IDENTITY_FINGERPRINT: Migration = {
  version: 5,
  name: 'identity table fingerprint',
  statements: [`ALTER TABLE vnp_identities_revision ADD COLUMN fingerprint text`],
};
