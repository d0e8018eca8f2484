/**
 * End-to-end harness: a real manager in a child process (embedded store in a temp
 * dir, a free port) and the real `vnp` binary run as a child process per command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
/**
 * `vnp` from the sources (through tsx), so tests never run a stale dist/; the
 * shipped launcher (bin/vnp.js → dist/) has its own test (launcher.test.ts).
 */
export const VNP_SOURCE = ['--import', 'tsx', join(REPO, 'src/cli/main.ts')];

/** A port the kernel just handed out and released. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The environment without any VNP_* variable of the developer's shell. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('VNP_') && v !== undefined) env[k] = v;
  return env;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Manager {
  url: string;
  dataDir: string;
  adminToken: string;
  /** Run `vnp ARGS` against this manager (VNP_SERVER and VNP_DATA_DIR set). */
  vnp(args: string[], opts?: { env?: Record<string, string>; input?: string }): Promise<RunResult>;
  stop(): Promise<void>;
}

/** Run a command to completion, collecting its output. */
export function run(
  cmd: string,
  args: string[],
  opts: { env: Record<string, string>; input?: string; cwd?: string },
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Run the `vnp` binary with a given environment. */
export function vnpWith(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<RunResult> {
  return run(process.execPath, [...VNP_SOURCE, ...args], {
    env: { ...cleanEnv(), ...env },
    ...(input !== undefined ? { input } : {}),
  });
}

export async function waitReady(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`manager exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`manager not ready after ${timeoutMs} ms:\n${log()}`);
}

/**
 * Spawn a manager by `argv` (`node … server`, `npm start`) on a free loopback port with
 * its data in `dataDir`; `child.log` collects its output. Not yet ready: see {@link waitReady}.
 */
export async function spawnManager(
  argv: string[],
  dataDir: string,
): Promise<{ child: ChildProcess & { log: string }; url: string }> {
  const port = await freePort();
  const env = {
    ...cleanEnv(),
    VNP_DATA_DIR: dataDir,
    VNP_LISTEN: `127.0.0.1:${port}`,
    VNP_LOG_LEVEL: 'warn',
  };
  const spawned = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = Object.assign(spawned, { log: '' });
  child.stdout!.on('data', (d: Buffer) => (child.log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (child.log += d.toString()));
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * Start `vnp server` (tsx src/cli/main.ts server) on a free port in a temp data dir.
 *
 * @example
 *   const m = await startManager(); await m.vnp(['status']); await m.stop();
 */
export async function startManager(timeoutMs = 90_000): Promise<Manager> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vnp-cli-e2e-'));
  const { child, url } = await spawnManager([process.execPath, ...VNP_SOURCE, 'server'], dataDir);
  try {
    await waitReady(url, child, () => child.log, timeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    url,
    dataDir,
    adminToken,
    vnp: (args, opts = {}) =>
      vnpWith(args, { VNP_SERVER: url, VNP_DATA_DIR: dataDir, ...opts.env }, opts.input),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
