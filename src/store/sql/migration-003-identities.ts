/**
 * Migration 3 (additive): identity allocations as the database decided them, so every
 * manager sharing the database gives the same number to the same tag set, also after
 * a restart (docs/adr/0007-distribution.md). The first manager to record a revision's
 * allocations wins; the others compare and, if they differ, reload seeded from it.
 */
import type { Migration } from './migration.js';

/** Tables `vnp_identities` and `vnp_identities_revision`. */
export const MIGRATION_003_IDENTITIES: Migration = {
  version: 3,
  name: 'identity allocations',
  statements: [
    `CREATE TABLE vnp_identities (
       id integer PRIMARY KEY,
       key text NOT NULL,
       released_at bigint
     )`,
    `CREATE TABLE vnp_identities_revision (
       id boolean PRIMARY KEY DEFAULT true CHECK (id),
       rev bigint NOT NULL
     )`,
    `INSERT INTO vnp_identities_revision (id, rev) VALUES (true, 0)`,
  ],
};
