import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { defineStoreConformance } from '../conformance.js';
import type { Store } from '../types.js';
import { poolClient } from './postgres-client.js';
import { openPostgresStore } from './postgres-store.js';

const serverUrl = process.env.VNP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const run = `vnp_test_${randomBytes(4).toString('hex')}`;
const created: string[] = [];

/** The same server, another database. */
function urlFor(database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: urlFor('postgres'), connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const reachable = await withAdmin(async (c) => (await c.query('SELECT 1')).rows.length === 1).catch(
  (e: unknown) => {
    console.warn(
      `\n*** PostgreSQL at ${urlFor('postgres')} is unreachable (${String(e)}): ` +
        'the PostgreSQL store integration tests are SKIPPED. Set VNP_TEST_DATABASE_URL. ***\n',
    );
    return false;
  },
);

if (!reachable && process.env.CI === 'true') {
  describe('postgres store', () => {
    it('needs PostgreSQL in CI', () => {
      throw new Error(`PostgreSQL at ${serverUrl} is unreachable and CI=true`);
    });
  });
}

/** A freshly named, empty database (dropped after the run). */
async function blank(): Promise<string> {
  const name = `${run}_${created.length}`;
  // Identifiers cannot be parameters; this one is generated here, never input.
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  created.push(name);
  return urlFor(name);
}

async function dropAll(): Promise<void> {
  await withAdmin(async (c) => {
    for (const name of created.splice(0)) {
      // One failure must not leave the rest behind.
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((e: unknown) => {
        console.warn(`could not drop test database ${name}: ${String(e)}`);
      });
    }
  });
}

describe.skipIf(!reachable)('postgres', () => {
  defineStoreConformance('postgres', {
    blank,
    open: (url) => openPostgresStore({ url, poolSize: 4 }),
    shared: true,
    crashBackend: 'postgres',
    raw: async (url) => {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      return { client: poolClient(pool), close: () => pool.end() };
    },
  });
  afterAll(dropAll);

  describe('postgres change follower', () => {
    it('re-listens after its connection is killed and reports the latest revision', async () => {
      const url = await blank();
      const a = await openPostgresStore({ url });
      const b = await openPostgresStore({ url });
      const stores: Store[] = [a, b];
      try {
        const heard: number[] = [];
        await b.onCommit((rev) => heard.push(rev));
        await a.commit({
          baseRevision: 0,
          actor: 't',
          action: 'x',
          at: new Date().toISOString(),
          puts: [],
          deletes: [],
        });
        await expect.poll(() => heard.at(-1), { timeout: 5000 }).toBe(1);

        // Kill b's LISTEN connection, then commit while it is down.
        const killed = await withAdmin(async (c) => {
          const r = await c.query(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
             WHERE datname = $1 AND query LIKE 'LISTEN%'`,
            [new URL(url).pathname.slice(1)],
          );
          return r.rows.length;
        });
        expect(killed).toBe(1);
        await a.commit({
          baseRevision: 1,
          actor: 't',
          action: 'x',
          at: new Date().toISOString(),
          puts: [],
          deletes: [],
        });
        await a.commit({
          baseRevision: 2,
          actor: 't',
          action: 'x',
          at: new Date().toISOString(),
          puts: [],
          deletes: [],
        });
        // Whether by a notification or by the catch-up report after re-LISTEN, b learns of 3.
        await expect.poll(() => heard.at(-1), { timeout: 10_000 }).toBe(3);

        // And it listens again: a later commit is heard too.
        await a.commit({
          baseRevision: 3,
          actor: 't',
          action: 'x',
          at: new Date().toISOString(),
          puts: [],
          deletes: [],
        });
        await expect.poll(() => heard.at(-1), { timeout: 5000 }).toBe(4);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
});
