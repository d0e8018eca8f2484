/**
 * Migration 7 (additive): flow records and their per-minute aggregate (docs/flows.md,
 * docs/adr/0019-flow-store.md). Telemetry, apart from the resources: no revision, no
 * change log; pruned by age and row count.
 */
import type { Migration } from './migration.js';

/** Tables `vnp_flows` and `vnp_flow_minutes`. */
export const MIGRATION_007_FLOWS: Migration = {
  version: 7,
  name: 'flow records and per-minute aggregate',
  statements: [
    // The filter columns are copies of fields of `doc` (the record as the API returns
    // it), so every filter is a plain column test; `policies` holds the deciding
    // policies of both sides.
    `CREATE TABLE vnp_flows (
       id bigserial PRIMARY KEY,
       at timestamptz NOT NULL,
       host text NOT NULL,
       verdict text NOT NULL,
       state text NOT NULL,
       protocol text NOT NULL,
       port integer NOT NULL,
       src_address inet NOT NULL,
       src_record text,
       src_identity bigint NOT NULL,
       dst_address inet NOT NULL,
       dst_record text,
       dst_identity bigint NOT NULL,
       policies text[] NOT NULL,
       doc jsonb NOT NULL
     )`,
    `CREATE INDEX vnp_flows_at_idx ON vnp_flows (at)`,
    `CREATE TABLE vnp_flow_minutes (
       minute timestamptz NOT NULL,
       src_identity bigint NOT NULL,
       dst_identity bigint NOT NULL,
       protocol text NOT NULL,
       port integer NOT NULL,
       verdict text NOT NULL,
       policy text NOT NULL,
       rule text NOT NULL,
       count bigint NOT NULL,
       bytes bigint NOT NULL,
       PRIMARY KEY (minute, src_identity, dst_identity, protocol, port, verdict, policy, rule)
     )`,
  ],
};
