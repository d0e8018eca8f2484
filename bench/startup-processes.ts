/**
 * Processes the start-up suite times: a bare PGlite opening a directory, the
 * manager (`node bin/vnp.js server`, the compiled build) and one-shot commands.
 * Every time is wall-clock from spawn, so Node's own start-up counts on both sides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const VNP_BIN = resolve(REPO, 'bin/vnp.js');

/** What a long-running child looked like once it served. */
export interface Started {
  /** Spawn → ready (bare: `SELECT 1` answered; vnp: /readyz 200). */
  readyMs: number;
  /** vnp only: spawn → first /healthz 200. */
  healthMs?: number;
  /** CPU (user + system) the process had used when it was ready. */
  cpuMs: number;
  /** Resident memory after `idleMs` of idling. */
  rssBytes: number;
}

/**
 * The bare baseline: `PGlite.create(dir)` with default options, then `SELECT 1`.
 * With BENCH_SHARED_BUFFERS it opens PostgreSQL with that buffer pool, as vnp's store
 * does (docs/adr/0051-pglite-buffer-pool.md): the gap to it is vnp's own work.
 * It closes the database on SIGTERM, so the next open finds it shut down cleanly.
 */
const BARE = `
import { PGlite } from '@electric-sql/pglite';
const pool = process.env.BENCH_SHARED_BUFFERS;
const db = await PGlite.create(process.env.BENCH_DIR, pool
  ? { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=' + pool] }
  : {});
await db.query('SELECT 1');
process.stdout.write('ready\\n');
// PGlite holds no handle: without a timer the process would exit before it is measured.
const idle = setInterval(() => {}, 1 << 30);
process.once('SIGTERM', () => db.close().then(() => { clearInterval(idle); process.exit(0); }));
`;

/** CPU time of a live process from /proc (Linux), in ms. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Resident set size of a live process from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
}

/** Stop a child politely (SIGTERM: both close their database), SIGKILL after 60 s. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await done;
  clearTimeout(timer);
}

/** A port the kernel just handed out and released. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function status(url: string): Promise<number> {
  return new Promise((done) => {
    const req = get(url, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', () => done(0));
    req.setTimeout(5000, () => req.destroy());
  });
}

function collect(child: ChildProcess): () => string {
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  return () => log.slice(-4000);
}

/**
 * Open `dir` with a bare PGlite (default options, or `sharedBuffers` as the buffer
 * pool); resolves once it answered, measured, with the
 * child still running (the caller stops it).
 */
export async function startBare(
  dir: string,
  idleMs: number,
  sharedBuffers?: string,
): Promise<{ child: ChildProcess; started: Started }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE], {
    cwd: REPO,
    env: {
      ...process.env,
      BENCH_DIR: dir,
      ...(sharedBuffers ? { BENCH_SHARED_BUFFERS: sharedBuffers } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = collect(child);
  const readyMs = await new Promise<number>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) ok(performance.now() - t0);
    });
    child.once('exit', (code) => fail(new Error(`bare PGlite exited with ${code}:\n${log()}`)));
  });
  const cpuMs = cpuMsOf(child.pid!);
  await sleep(idleMs);
  return { child, started: { readyMs, cpuMs, rssBytes: rssOf(child.pid!) } };
}

/** A running manager: its URL, data directory and process. */
export interface Manager {
  url: string;
  dataDir: string;
  child: ChildProcess;
}

/**
 * Start `vnp server` on `dataDir`; resolves once /readyz answered 200 and the
 * manager idled `idleMs`, with the child still running.
 */
export async function startManager(
  dataDir: string,
  idleMs: number,
): Promise<{ manager: Manager; started: Started }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [VNP_BIN, 'server'], {
    cwd: REPO,
    env: {
      ...process.env,
      VNP_DATA_DIR: dataDir,
      VNP_LISTEN: `127.0.0.1:${port}`,
      VNP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = collect(child);
  let healthMs: number | undefined;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`vnp server exited with ${child.exitCode}:\n${log()}`);
    if (performance.now() - t0 > 600_000) {
      await stop(child);
      throw new Error(`vnp server not ready after 600 s:\n${log()}`);
    }
    if (healthMs === undefined && (await status(`${url}/healthz`)) === 200)
      healthMs = performance.now() - t0;
    if (healthMs !== undefined && (await status(`${url}/readyz`)) === 200) break;
    await sleep(10);
  }
  const readyMs = performance.now() - t0;
  const cpuMs = cpuMsOf(child.pid!);
  await sleep(idleMs);
  return {
    manager: { url, dataDir, child },
    started: { readyMs, healthMs, cpuMs, rssBytes: rssOf(child.pid!) },
  };
}

/** Run a command to completion; resolves with its wall time (rejects on a non-zero exit). */
export function timeCommand(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<number> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) ok(ms);
      else fail(new Error(`node ${args.join(' ')} exited with ${code}: ${err.trim()}`));
    });
  });
}
