/**
 * Migration 2 (additive): events and pending reaction expiries (design.md §1
 * Reaction). Expiries are rows, not timers, so a TTL survives a manager restart:
 * on start the manager undoes every row already past due.
 */
import type { Migration } from './migration.js';

/** Tables `vnp_events` and `vnp_expiries`. */
export const MIGRATION_002_REACTIONS: Migration = {
  version: 2,
  name: 'events and reaction expiries',
  statements: [
    `CREATE TABLE vnp_events (
       id bigserial PRIMARY KEY,
       at timestamptz NOT NULL,
       type text NOT NULL,
       target text NOT NULL,
       record text,
       severity integer,
       details jsonb,
       actor text NOT NULL,
       reactions jsonb NOT NULL
     )`,
    // One pending undo per (record, reaction): a repeated event moves expires_at.
    `CREATE TABLE vnp_expiries (
       record text NOT NULL,
       reaction text NOT NULL,
       expires_at timestamptz NOT NULL,
       set_tags jsonb NOT NULL,
       removed jsonb NOT NULL,
       prior jsonb NOT NULL,
       event_id bigint,
       PRIMARY KEY (record, reaction)
     )`,
    `CREATE INDEX vnp_expiries_due_idx ON vnp_expiries (expires_at)`,
  ],
};
