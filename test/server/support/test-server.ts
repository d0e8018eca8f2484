/**
 * The one helper every server test uses: a real manager (buildServer) on a real
 * store — PGlite in a temp dir, or a fresh PostgreSQL database — with a token
 * per role, and `call()` for requests through Fastify's injector.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { parseSettings, type ServerSettings } from '../../../src/config/settings.js';
import { buildServer } from '../../../src/server/app.js';
import type { Role } from '../../../src/server/auth.js';
import type { Manager } from '../../../src/server/manager.js';
import type { DeniedAudit } from '../../../src/server/denied-audit.js';
import type { FlowHub } from '../../../src/server/flows/flow-hub.js';
import { createToken } from '../../../src/server/tokens.js';
import { openStore } from '../../../src/store/open-store.js';
import type { Store } from '../../../src/store/types.js';
import { DB, MODEL, WEB } from './fixtures.js';

export const TEST_DATABASE_URL =
  process.env.VNP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface CallOptions {
  /** A role (its token is used), a raw Authorization value, or null for none. Default admin. */
  as?: Role | null;
  authorization?: string;
  body?: unknown;
  /** A raw body string (sent as is, with content-type application/json unless given). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests poke at JSON freely
  text: string;
  headers: Record<string, unknown>;
}

export interface TestServer {
  app: FastifyInstance;
  manager: Manager;
  store: Store;
  tokens: Record<Role, string>;
  tokenIds: Record<Role, string>;
  settings: ServerSettings;
  /** The flow intake (flush it to see submitted flows at once). */
  flows: FlowHub;
  /** Denied attempts being audited (await `settled()` to read them). */
  denials: DeniedAudit;
  call(method: string, url: string, opts?: CallOptions): Promise<CallResult>;
  /** Close the app and store, reopen both on the same data (the restart test); `between` runs while it is down. */
  restart(between?: () => Promise<void>): Promise<TestServer>;
  /** Close app and store; remove the data dir if this server created it. */
  close(): Promise<void>;
}

export interface StartOptions {
  backend?: 'pglite' | 'postgres';
  /** Reuse a data dir / database (restart, second manager). */
  dataDir?: string;
  databaseUrl?: string;
  settings?: Partial<ServerSettings>;
  now?: () => number;
  /** Create the four role tokens (default true; false when reopening). */
  tokens?: Record<Role, string> | false;
  tokenIds?: Record<Role, string>;
  /** Who removes the data dir / database at close (the first opener). */
  owner?: boolean;
}

/**
 * Create a fresh, empty PostgreSQL database for one test file; undefined (with a
 * loud message) when PostgreSQL is unreachable — or a throw when CI=true.
 */
export async function freshDatabase(): Promise<
  { url: string; drop: () => Promise<void> } | undefined
> {
  const admin = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await admin.connect();
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    console.warn(
      `\n*** SKIPPING PostgreSQL server tests: ${TEST_DATABASE_URL} unreachable (${String(err)}) ***\n`,
    );
    return undefined;
  }
  const name = `vnp_server_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Start a manager for a test.
 *
 * @example
 *   const s = await startTestServer();
 *   const r = await s.call('GET', '/v1/subnets', { as: 'viewer' });
 */
export async function startTestServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'vnp-server-')));
  const settings: ServerSettings = {
    ...parseSettings({ VNP_DATA_DIR: dataDir }),
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    ...opts.settings,
  };
  const store = await openStore({
    dataDir,
    ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
  });
  const built = await buildServer({
    settings,
    store,
    logger: false,
    ...(opts.now ? { now: opts.now } : {}),
  });
  // Route schemas compile on first use; here all at once, so a bad one fails every test.
  built.compileSchemas();
  let tokens = opts.tokens || undefined;
  let tokenIds = opts.tokenIds;
  if (!tokens) {
    const made = {} as Record<Role, string>;
    const ids = {} as Record<Role, string>;
    for (const role of ['admin', 'operator', 'viewer', 'agent'] as const) {
      const t = await createToken(
        built.manager,
        role === 'agent' ? { role, host: 'host-a' } : { role },
        'system:test',
      );
      made[role] = t.token;
      ids[role] = t.id;
    }
    tokens = made;
    tokenIds = ids;
  }
  const owner = opts.owner ?? opts.dataDir === undefined;
  const finalTokens = tokens;
  const server: TestServer = {
    app: built.app,
    manager: built.manager,
    store,
    tokens: finalTokens,
    tokenIds: tokenIds!,
    settings,
    flows: built.flows,
    denials: built.denials,
    async call(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const as = o.as === undefined ? 'admin' : o.as;
      if (o.authorization !== undefined) headers.authorization = o.authorization;
      else if (as !== null) headers.authorization = `Bearer ${finalTokens[as]}`;
      let payload: string | undefined;
      if (o.raw !== undefined) payload = o.raw;
      else if (o.body !== undefined) payload = JSON.stringify(o.body);
      if (
        payload !== undefined &&
        !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
      ) {
        headers['content-type'] = 'application/json';
      }
      const res = await built.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload !== undefined ? { payload } : {}),
      });
      let body: unknown;
      try {
        body = res.body === '' ? undefined : JSON.parse(res.body);
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, body, text: res.body, headers: res.headers };
    },
    async restart(between) {
      await built.close();
      await store.close();
      await between?.();
      return startTestServer({ ...opts, dataDir, owner, tokens: finalTokens, tokenIds: tokenIds! });
    },
    async close() {
      try {
        await built.close();
        await store.close();
      } finally {
        if (owner) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
  return server;
}

/**
 * A test server listening on a loopback port, holding the shared two-record model with
 * web attached on vm1 and db on vm2 (the last document of each kind and name wins).
 *
 * @example const { s, url } = await startAttachedModelServer();
 */
export async function startAttachedModelServer(): Promise<{ s: TestServer; url: string }> {
  const s = await startTestServer();
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  const documents = [...MODEL, { ...WEB, instance: 'vm1' }, { ...DB, instance: 'vm2' }];
  const r = await s.call('POST', '/v1/apply', {
    body: {
      documents: documents.filter(
        (doc, i, all) =>
          all.findLastIndex((other) => other.kind === doc.kind && other.name === doc.name) === i,
      ),
    },
  });
  if (r.status !== 200) throw new Error(`applying the attached model: ${r.status} ${r.text}`);
  return { s, url };
}
