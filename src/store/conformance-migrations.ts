/**
 * Store conformance, migrations over data (part of the suite in conformance.ts): a
 * store at migration 8 that holds data of every kind — resources and their history,
 * tokens, events, flow records of every shape, one of them in the first version's
 * `doc` shape — migrates to 9 and keeps all of it, and migration 9's backfill fills the
 * replay tuples exactly as live ingest fills them.
 */
import { expect, it } from 'vitest';
import type { FlowRecord } from '../model/flow.js';
import { flow } from './conformance-flows.js';
import { T0, T1, iface, req, subnet, type Fresh, type Open } from './conformance-support.js';
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
  ].map((r) => JSON.parse(JSON.stringify(r)) as FlowRecord);
}

/** The record of the first `doc` shape (the whole record in `doc`), inserted at migration 8. */
const LEGACY = flow({ time: at(30), host: 'h3', port: 443, dst: { ...flow().dst, port: 443 } });

const INSERT_LEGACY = `INSERT INTO vnp_flows (at, host, verdict, state, protocol, port, src_address,
    src_record, src_identity, dst_address, dst_record, dst_identity, policies, doc)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)`;

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
  it('migrates a store at migration 8 with data to 9, keeping all of it; the backfill fills tuples as ingest does', async () => {
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
    const legacyLive = (await store.insertFlows([LEGACY]))[0]!;
    const expected = { ...(await everything(store)), flows: live.flows };
    await store.close();

    // Back to migration 8: migration 9's table and row go; the legacy row is rewritten
    // in the first `doc` shape (the whole record).
    const sql = await raw(location);
    try {
      await sql.client.query('DROP TABLE vnp_flow_tuples');
      await sql.client.query('DELETE FROM vnp_migrations WHERE version = 9');
      await sql.client.query('DELETE FROM vnp_flows WHERE id = $1', [legacyLive.id]);
      const r = LEGACY;
      await sql.client.query(INSERT_LEGACY, [
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
        `{${r.egress!.policy!}}`,
        JSON.stringify(r),
      ]);
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
    expect(after.tuples.reduce((n, tuple) => n + tuple.count, 0)).toBe(6);
  });
}
