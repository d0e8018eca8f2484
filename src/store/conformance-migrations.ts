/**
 * Store conformance, migrations over data (part of the suite in conformance.ts): a
 * store at migration 8 that holds data of every kind — resources and their history,
 * tokens, events, flow records of every shape in the two `doc` shapes of migration 7's
 * table — migrates to the latest and keeps all of it: migration 9's backfill fills the
 * replay tuples exactly as live ingest fills them, migration 10's fills the typed
 * columns so that every record reads back as it was stored.
 */
import { expect, it } from 'vitest';
import type { FlowEndpoint, FlowRecord } from '../model/flow.js';
import { flow } from './conformance-flows.js';
import { T0, T1, iface, req, subnet, type Fresh, type Open } from './conformance-support.js';
import { MIGRATION_007_FLOWS } from './sql/migration-007-flows.js';
import type { SqlClient } from './sql/sql-client.js';
import type { Store } from './types.js';

/** Raw SQL on a location (a store's database, while no store has it open). */
export type RawSql = (location: string) => Promise<{ client: SqlClient; close(): Promise<void> }>;

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

/** Flows of every shape the backfill tells apart, over two minutes. */
function records(): FlowRecord[] {
  const world = { address: '192.0.2.9', port: 1234, identity: 1, partitions: [] };
  return [
    flow(), // egress side: counted
    flow({ time: at(5) }), // the same connection again: counted twice
    flow({ time: at(61), port: 80, dst: { ...flow().dst, port: 80 } }), // next minute
    // Ingress only, source outside every record: counted (no host reports its egress).
    flow({
      host: 'h2',
      src: world,
      egress: undefined,
      ingress: { verdict: 'deny', default: 'deny' },
      verdict: 'deny',
    }),
    // Ingress only, source a record: its host reports the egress side; not counted.
    flow({ host: 'h2', egress: undefined, ingress: { verdict: 'allow', default: 'allow' } }),
    flow({ time: at(7), state: 'closed', packets: 9, bytes: 900 }), // closed: not counted
    flow({ protocol: 'icmp', port: 8, code: 0, src: { ...flow().src, port: undefined } }),
    // IPv6, both sides, a logged rule, two partitions.
    flow({
      src: { ...flow().src, address: '2001:db8::5', partitions: ['web', 'prod'] },
      dst: { ...flow().dst, address: '2001:db8::1:7' },
      egress: { verdict: 'allow', policy: 'web', rule: 'egress[0]', logged: true },
      ingress: { verdict: 'allow', policy: 'db', rule: 'ingress[2]' },
    }),
  ].map((r) => JSON.parse(JSON.stringify(r)) as FlowRecord);
}

/** A record stored at migration 8 in the first `doc` shape (the whole record). */
const LEGACY = flow({ time: at(30), host: 'h3', port: 443, dst: { ...flow().dst, port: 443 } });

const INSERT_AT_8 = `INSERT INTO vnp_flows (id, at, host, verdict, state, protocol, port, src_address,
    src_record, src_identity, dst_address, dst_record, dst_identity, policies, doc)
  VALUES (coalesce($15::bigint, nextval('vnp_flows_id_seq')), $1, $2, $3, $4, $5, $6, $7, $8,
    $9, $10, $11, $12, $13, $14::jsonb)`;

/** The second `doc` shape: the record less its filter columns (ADR 0048). */
function docAt8(r: FlowRecord): Record<string, unknown> {
  const end = ({ address, port, partitions }: FlowEndpoint) => ({ address, port, partitions });
  const { time, code, egress, ingress, packets, bytes } = r;
  return JSON.parse(
    JSON.stringify({
      time,
      src: end(r.src),
      dst: end(r.dst),
      code,
      egress,
      ingress,
      packets,
      bytes,
    }),
  ) as Record<string, unknown>;
}

/** Insert a record into migration 7's table, with its `doc` and id (the sequence's when none). */
async function insertAt8(client: SqlClient, r: FlowRecord, doc: unknown, id?: number) {
  const policies = [r.egress?.policy, r.ingress?.policy].filter((p) => p !== undefined);
  await client.query(INSERT_AT_8, [
    r.time,
    r.host,
    r.verdict,
    r.state,
    r.protocol,
    r.port,
    r.src.address,
    r.src.record,
    r.src.identity,
    r.dst.address,
    r.dst.record,
    r.dst.identity,
    `{${policies.join(',')}}`,
    JSON.stringify(doc),
    id ?? null,
  ]);
}

/** Back to migration 8: the flows table as migration 7 made it, holding `flows`, and no tuples. */
async function backTo8(client: SqlClient, flows: readonly (FlowRecord & { id: number })[]) {
  await client.query('DROP TABLE vnp_flow_tuples');
  await client.query('DELETE FROM vnp_migrations WHERE version >= 9');
  await client.query('DROP TABLE vnp_flows');
  // Migration 7's table and index (its third statement, the minutes, is still there).
  for (const statement of MIGRATION_007_FLOWS.statements.slice(0, 2)) await client.query(statement);
  for (const f of [...flows].reverse()) {
    const { id, ...r } = f;
    await insertAt8(client, r, docAt8(r), id);
  }
  await client.query(`SELECT setval('vnp_flows_id_seq', (SELECT max(id) FROM vnp_flows))`);
}

/** Everything a reader of the store can see. */
async function everything(store: Store) {
  return {
    all: await store.loadAll(),
    changes: await store.changesSince(0),
    audit: await store.audit({}),
    chain: await store.auditChain(0, 100),
    tokens: await store.listTokens(),
    events: await store.listEvents(100),
    flows: await store.listFlows({ limit: 1000 }),
    summary: await store.flowSummary(at(0)),
    tuples: await store.flowTuples(at(0)),
  };
}

const byKey = <T>(xs: T[]) =>
  [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/**
 * The migration-over-data test.
 *
 * @example describeMigrationBackfill(fresh, open, raw);
 */
export function describeMigrationBackfill(fresh: Fresh, open: Open, raw: RawSql): void {
  it('migrates a store at migration 8 with data to the latest, keeping all of it; the backfills fill tuples as ingest does and every record reads back', async () => {
    const { store, location } = await fresh();
    await store.commit(req(0, { puts: [subnet('net'), iface('i1', { env: 'prod' })] }));
    await store.commit(req(1, { at: T1, deletes: [{ kind: 'Interface', name: 'i1' }] }));
    await store.putToken({
      id: 't1',
      role: 'viewer',
      hash: 'scrypt$x',
      createdAt: T0,
      createdBy: 'test',
    });
    await store.insertEvent({
      at: T0,
      type: 'scan',
      target: '203.0.113.9',
      actor: 'op',
      reactions: [],
    });
    await store.insertFlows(records());
    // Live ingest of the legacy record too: what its tuple must be after the backfill.
    const live = await everything(store);
    await store.insertFlows([LEGACY]);
    const expected = { ...(await everything(store)), flows: live.flows };
    await store.close();

    // Back to migration 8: migration 9's table goes, migration 10's columns go back to
    // `doc` (the second shape) and `policies`; the legacy row in the first `doc` shape.
    const sql = await raw(location);
    try {
      await backTo8(sql.client, live.flows);
      await insertAt8(sql.client, LEGACY, LEGACY);
      const v = await sql.client.query<{ v: number }>(
        'SELECT max(version) AS v FROM vnp_migrations',
      );
      expect(Number(v.rows[0]!.v)).toBe(8);
    } finally {
      await sql.close();
    }

    const migrated = await open(location);
    const after = await everything(migrated);
    const [legacy, ...rest] = after.flows;
    expect(legacy).toEqual({ ...LEGACY, id: legacy!.id });
    expect({ ...after, flows: rest, tuples: byKey(after.tuples) }).toEqual({
      ...expected,
      tuples: byKey(expected.tuples),
    });
    expect(after.tuples.reduce((n, tuple) => n + tuple.count, 0)).toBe(7);
  });
}
