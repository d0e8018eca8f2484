/**
 * Migration 11: the flows' time index is a BRIN, not a B-tree (ADR 0060). Flow rows
 * are appended in roughly the order of their times, so a block range's minimum and
 * maximum time select the pages a time filter or the age retention reads; a B-tree
 * entry per row was a quarter to a third of a flow batch's COPY in PGlite. The
 * newest ranges are summarised by the retention pass (`pruneFlows`), PGlite having
 * no autovacuum; an unsummarised range is read whole, never skipped.
 */
import type { Migration } from './migration.js';

export const MIGRATION_011_FLOW_TIME_BRIN: Migration = {
  version: 11,
  name: 'flow time index as BRIN',
  statements: [
    `DROP INDEX vnp_flows_at_idx`,
    `CREATE INDEX vnp_flows_at_idx ON vnp_flows USING brin (at)`,
  ],
};
