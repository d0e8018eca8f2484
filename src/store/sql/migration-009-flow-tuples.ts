/**
 * Migration 9 (additive): the per-minute count of each distinct connection, so an
 * `--against-flows` replay reads distinct connections × minutes, not every flow row
 * (docs/adr/0019-flow-store.md). Filled from the flows already stored.
 */
import type { Migration } from './migration.js';

/** Table `vnp_flow_tuples`. */
export const MIGRATION_009_FLOW_TUPLES: Migration = {
  version: 9,
  name: 'per-minute distinct connections for replays',
  statements: [
    // One row per connection: the source's host reports it with its egress side; the
    // destination's host alone reports a source outside every record.
    `CREATE TABLE vnp_flow_tuples (
       minute timestamptz NOT NULL,
       src inet NOT NULL,
       dst inet NOT NULL,
       protocol text NOT NULL,
       port integer NOT NULL,
       verdict text NOT NULL,
       count bigint NOT NULL,
       PRIMARY KEY (minute, src, dst, protocol, port, verdict)
     )`,
    `INSERT INTO vnp_flow_tuples (minute, src, dst, protocol, port, verdict, count)
     SELECT date_trunc('minute', at), src_address, dst_address, protocol, port, verdict, count(*)
     FROM vnp_flows
     WHERE state = 'new' AND ((doc -> 'egress') IS NOT NULL OR src_record IS NULL)
     GROUP BY 1, 2, 3, 4, 5, 6`,
  ],
};
