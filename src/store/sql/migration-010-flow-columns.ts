/**
 * Migration 10: every field of a flow record in a typed column, no `doc` (jsonb) and no
 * `policies` array (docs/adr/0053-flow-columns.md). The JSON was a third of PGlite's
 * COPY time per row and the array's parse another part; the deciding policy of each
 * side is now its own column, which the policy filter tests. Rows of both earlier
 * `doc` shapes (the whole record, and the record less its filter columns) are filled
 * from their `doc`, whose fields sit at the same paths in both. The time and the
 * addresses come back from `at` and the inet columns: what agents send (and the batch
 * check gives back) is already their canonical text. The id sequence hands out blocks
 * of 1,000, so a batch takes its ids with one `nextval` per block, not per id.
 */
import type { Migration } from './migration.js';

const side = (s: 'egress' | 'ingress') =>
  `${s}_verdict = doc #>> '{${s},verdict}', ${s}_policy = doc #>> '{${s},policy}',
   ${s}_rule = doc #>> '{${s},rule}', ${s}_default = doc #>> '{${s},default}',
   ${s}_logged = (doc #>> '{${s},logged}')::boolean`;

const partitions = (end: 'src' | 'dst') =>
  `ARRAY(SELECT jsonb_array_elements_text(coalesce(doc #> '{${end},partitions}', '[]')))`;

/** Typed columns for the rest of a flow record; `doc` and `policies` dropped. */
export const MIGRATION_010_FLOW_COLUMNS: Migration = {
  version: 10,
  name: 'flow records in typed columns, ids in blocks',
  statements: [
    `ALTER TABLE vnp_flows
       ADD COLUMN src_port integer, ADD COLUMN src_partitions text[] NOT NULL DEFAULT '{}',
       ADD COLUMN dst_port integer, ADD COLUMN dst_partitions text[] NOT NULL DEFAULT '{}',
       ADD COLUMN code integer,
       ADD COLUMN egress_verdict text, ADD COLUMN egress_policy text, ADD COLUMN egress_rule text,
       ADD COLUMN egress_default text, ADD COLUMN egress_logged boolean,
       ADD COLUMN ingress_verdict text, ADD COLUMN ingress_policy text, ADD COLUMN ingress_rule text,
       ADD COLUMN ingress_default text, ADD COLUMN ingress_logged boolean,
       ADD COLUMN packets bigint, ADD COLUMN bytes bigint`,
    `UPDATE vnp_flows SET
       src_port = (doc #>> '{src,port}')::integer, src_partitions = ${partitions('src')},
       dst_port = (doc #>> '{dst,port}')::integer, dst_partitions = ${partitions('dst')},
       code = (doc ->> 'code')::integer,
       ${side('egress')},
       ${side('ingress')},
       packets = (doc ->> 'packets')::bigint, bytes = (doc ->> 'bytes')::bigint`,
    `ALTER TABLE vnp_flows DROP COLUMN doc, DROP COLUMN policies`,
    `ALTER SEQUENCE vnp_flows_id_seq INCREMENT BY 1000`,
  ],
};
