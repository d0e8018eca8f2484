/**
 * Server suite (issue "The manager", Performance): over real HTTP on loopback,
 * against a real manager in this process, from a load generator in another process
 * (bench/server-load-child.ts: a client's CPU must not be charged to the manager),
 *  - single-tag-change writes (`PATCH /v1/interfaces/{name}/tags`) per second and their
 *    latency percentiles, one client writing back to back (each write is durable before
 *    it is answered), on PGlite and on PostgreSQL;
 *  - `POST /v1/check` requests per second with several concurrent keep-alive clients;
 *  - group commit (16 concurrent writers) and the mixed load (bench/server-load.ts);
 *  - an identity-changing tag write at ~6,000 records (a new identity joining a selector
 *    that rules use as a peer), write → feed step ready, against one that changes no
 *    identity (bench/feed-step.ts; issue #11: target p99 ≤ 10 ms).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseSettings } from '../src/config/settings.js';
import type { Document } from '../src/model/types.js';
import { buildServer } from '../src/server/app.js';
import { createToken } from '../src/server/tokens.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/types.js';
import { feedStepLatency, type FeedStepRow } from './feed-step.js';
import { formatMs } from './table.js';
import {
  groupCommitLoad,
  loadReport,
  mixedLoad,
  startLoadClient,
  type GroupCommitResult,
  type MixedResult,
} from './server-load.js';
import type { RunOptions, Suite } from './run.js';

interface StoreResult {
  store: string;
  records: number;
  writes: number;
  writesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  checks: number;
  checkConcurrency: number;
  checksPerSec: number;
  checkP99Ms: number;
  groupCommit: GroupCommitResult;
  mixed: MixedResult;
}

/** Scale of one run of the suite. */
interface ServerOptions {
  records: number;
  writes: number;
  checks: number;
  concurrency: number;
  writers: number;
  groupSeconds: number;
  connections: number;
  mixedSeconds: number;
}

function model(records: number): Document[] {
  const docs: Document[] = [
    { kind: 'Subnet', name: 'lan', cidr: '10.32.0.0/16' },
    { kind: 'Partition', name: 'prod', selector: 'env == "prod"', intra: 'allow' },
  ];
  for (let i = 0; i < records; i++) {
    const a = i + 2;
    docs.push({
      kind: 'Interface',
      name: `r${i}`,
      subnet: 'lan',
      ips: [`10.32.${a >> 8}.${a & 255}`],
      tags: { app: `a${i % 50}`, env: 'prod' },
    });
  }
  for (let p = 0; p < 50; p++) {
    docs.push({
      kind: 'Policy',
      name: `p${p}`,
      priority: 100,
      appliesTo: `app == "a${p}"`,
      ingress: [
        { action: 'allow', from: { selector: `app == "a${(p + 1) % 50}"` }, ports: ['tcp/443'] },
      ],
      egress: [],
      routes: [],
      mode: 'enforce',
    });
  }
  return docs;
}

/** A fresh database on the test PostgreSQL (undefined when unreachable); `drop` removes it. */
export async function freshPostgres(): Promise<
  { url: string; drop: () => Promise<void> } | undefined
> {
  const base = process.env.VNP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: base.replace(/\/[^/]*$/, '/postgres') });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `vnp_bench_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: base.replace(/\/[^/]*$/, `/${name}`),
    async drop() {
      const c = new pg.Client({ connectionString: base.replace(/\/[^/]*$/, '/postgres') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function measure(label: string, store: Store, opts: ServerOptions): Promise<StoreResult> {
  const settings = parseSettings({ VNP_LISTEN: '127.0.0.1:0', VNP_LOG_LEVEL: 'silent' });
  const server = await buildServer({ settings, store, logger: false });
  try {
    const base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await createToken(server.manager, { role: 'admin' }, 'bench');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const applied = await fetch(`${base}/v1/apply`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ documents: model(opts.records) }),
    });
    if (!applied.ok) throw new Error(`apply failed: ${applied.status} ${await applied.text()}`);

    const client = startLoadClient({ base, headers, records: opts.records });
    try {
      const writes = await client.run({ kind: 'writes', writes: opts.writes });
      const checks = await client.run({
        kind: 'checks',
        checks: opts.checks,
        concurrency: opts.concurrency,
      });
      const profileDir = process.env.VNP_BENCH_PROFILE;
      const groupCommit = await groupCommitLoad(client, {
        writers: opts.writers,
        seconds: opts.groupSeconds,
        single: opts.writes,
        ...(profileDir ? { profile: join(profileDir, `server-group-${label}.cpuprofile`) } : {}),
      });
      const mixed = await mixedLoad(client, {
        connections: opts.connections,
        seconds: opts.mixedSeconds,
      });
      return {
        groupCommit,
        mixed,
        store: label,
        records: opts.records,
        writes: opts.writes,
        writesPerSec: writes.count / writes.secs,
        p50Ms: writes.p50Ms,
        p99Ms: writes.p99Ms,
        maxMs: writes.maxMs,
        checks: opts.checks,
        checkConcurrency: opts.concurrency,
        checksPerSec: checks.count / checks.secs,
        checkP99Ms: checks.p99Ms,
      };
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

/** The identity-changing write's rows, with the target. */
function identityReport(rows: FeedStepRow[]): string[] {
  const what: Record<FeedStepRow['kind'], string> = {
    tier: 'no identity change (tier)',
    move: 'record moves to an existing app',
    fresh: 'new identity joining a rule-peer selector',
  };
  return [
    '',
    'identity-changing tag write → every host message built (Manager + PGlite, durable commit + engine + HostFeed, side patches):',
    ...rows.map(
      (r) =>
        `  ${what[r.kind].padEnd(42)} ${r.records} records, ${r.policies} policies, ${r.changes} writes: p50 ${formatMs(r.p50)}, p99 ${formatMs(r.p99)}, max ${formatMs(r.max)}, CPU ${formatMs(r.cpuMs)} per write` +
        `; ${formatBytes(r.bytesPatched)} to all hosts per write (whole sides: ${formatBytes(r.bytesWhole)})` +
        (r.kind === 'fresh' ? ` — target p99 ≤ 10 ms: ${r.p99 <= 10 ? 'MET' : 'MISSED'}` : ''),
    ),
  ];
}

function report(rows: StoreResult[], skipped: string[]): string {
  const lines = [
    'server: single-tag-change writes over HTTP (durable before answered) and check requests over HTTP',
    '',
    'store      records  writes/s   p50 ms   p99 ms   max ms   checks/s (concurrency)  check p99 ms',
  ];
  for (const r of rows) {
    lines.push(
      `${r.store.padEnd(10)} ${String(r.records).padStart(7)}  ${r.writesPerSec.toFixed(0).padStart(8)}  ${r.p50Ms.toFixed(2).padStart(7)}  ${r.p99Ms.toFixed(2).padStart(7)}  ${r.maxMs.toFixed(2).padStart(7)}   ${r.checksPerSec.toFixed(0).padStart(8)} (${r.checkConcurrency})          ${r.checkP99Ms.toFixed(2).padStart(7)}`,
    );
  }
  lines.push('');
  for (const r of rows) lines.push(...loadReport(r.store, r.groupCommit, r.mixed));
  for (const s of skipped) lines.push(`(${s})`);
  return lines.join('\n');
}

/** The `server` suite. */
export const serverSuite: Suite = {
  async run(runOpts: RunOptions) {
    const { quick, log } = runOpts;
    const opts: ServerOptions = quick
      ? {
          records: 200,
          writes: 100,
          checks: 2000,
          concurrency: 8,
          writers: 16,
          groupSeconds: 3,
          connections: 32,
          mixedSeconds: 5,
        }
      : {
          records: 2000,
          writes: 500,
          checks: 20000,
          concurrency: 16,
          writers: 16,
          groupSeconds: 10,
          connections: 32,
          mixedSeconds: 60,
        };
    const rows: StoreResult[] = [];
    const skipped: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'vnp-bench-server-'));
    try {
      log('server: PGlite');
      const store = await openStore({ dataDir: dir });
      try {
        rows.push(await measure('pglite', store, opts));
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const db = await freshPostgres();
    if (db) {
      try {
        log('server: PostgreSQL');
        const store = await openStore({ dataDir: '', databaseUrl: db.url });
        try {
          rows.push(await measure('postgres', store, opts));
        } finally {
          await store.close();
        }
      } finally {
        await db.drop();
      }
    } else {
      skipped.push('PostgreSQL not reachable: its row is missing');
    }
    const [records, policies, changes] = quick ? [2_000, 100, 40] : [6_000, 300, 200];
    const identity: FeedStepRow[] = [];
    for (const kind of ['tier', 'fresh'] as const)
      identity.push(await feedStepLatency(runOpts, records, policies, changes, kind));
    return {
      json: { rows, skipped, identity },
      report: [report(rows, skipped), ...identityReport(identity)].join('\n'),
      ok: true,
    };
  },
};
