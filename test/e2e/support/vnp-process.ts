/**
 * The `vnp` binary as real processes inside test namespaces: one-shot commands
 * (`vnp apply`, `vnp check`, …), and the daemons (`vnp server`, `vnp agent`) with
 * their output lines, readiness and exit. A process in a namespace cannot reach
 * the root namespace's loopback, so the manager runs in a namespace on the
 * underlay and every command runs in a namespace too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(REPO, 'bin', 'vnp.js');

/** The environment without any VNP_* variable of the developer's shell. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('VNP_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

/** Output of a finished command. */
export interface VnpResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `vnp ARGS` inside namespace `ns` to completion (killed after `timeoutMs`).
 *
 * @example await vnpIn(mgrNs, ['check', 'web', 'db', '--port', '5432', '-o', 'json'], env)
 */
export function vnpIn(
  ns: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<VnpResult> {
  return new Promise((done, fail) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args], {
      cwd: REPO,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** A long-running `vnp` process (server or agent). */
export interface VnpDaemon {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Waits for a line matching `re` (at or after line index `from`). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Sends a signal unless the process already ended; resolves when it ended. */
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `vnp ARGS` inside namespace `ns` and collects its output lines.
 *
 * @example const a = spawnVnpIn(h1Ns, ['agent', '--host', 'h1', …], {}); await a.waitFor(/enforcing/);
 */
export function spawnVnpIn(ns: string, args: string[], env: Record<string, string>): VnpDaemon {
  // nsenter, not `ip netns exec`: the latter also enters a private (slave) mount
  // namespace, where the namespaces an agent creates for instances (`ip netns add`)
  // would be invisible to everyone else. A host's agent runs in the host's mount
  // namespace; only the network namespace differs here. nsenter execs (no fork),
  // so the child's pid is node's and a signal sent here reaches vnp itself.
  const child = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, BIN, ...args], {
    cwd: REPO,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const wake: (() => void)[] = [];
  const collect = (stream: NodeJS.ReadableStream): void => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      wake.splice(0).forEach((w) => w());
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  let ended = false;
  const exited = new Promise<number | string>((r) =>
    child.on('exit', (code, signal) => {
      ended = true;
      r(code ?? signal ?? -1);
      wake.splice(0).forEach((w) => w());
    }),
  );
  return {
    child,
    lines,
    exited,
    waitFor(re, timeoutMs = 20_000, from = 0) {
      return new Promise((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`timed out waiting for ${re}; output:\n${lines.join('\n')}`)),
          timeoutMs,
        );
        const check = (): void => {
          const hit = lines.slice(from).find((l) => re.test(l));
          if (hit !== undefined) {
            clearTimeout(timer);
            done(hit);
          } else if (ended) {
            clearTimeout(timer);
            fail(new Error(`process exited before ${re}; output:\n${lines.join('\n')}`));
          } else wake.push(check);
        };
        check();
      });
    },
    kill(signal) {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts `vnp server` in namespace `ns`, listening on ip:7400 with data in
 * `dataDir`, and waits until /readyz answers (curl from the same namespace).
 * Returns the daemon and the admin token it wrote on first start.
 *
 * @example const { server, adminToken } = await startManagerIn(mgrNs, '192.168.77.3', dir);
 */
export async function startManagerIn(
  ns: string,
  ip: string,
  dataDir: string,
  timeoutMs = 30_000,
): Promise<{ server: VnpDaemon; adminToken: string; url: string }> {
  const url = `http://${ip}:7400`;
  const server = spawnVnpIn(ns, ['server'], {
    VNP_LISTEN: `${ip}:7400`,
    // Plain HTTP on the test's private underlay (refused without it off loopback).
    VNP_INSECURE: '1',
    VNP_DATA_DIR: dataDir,
    VNP_LOG_LEVEL: 'warn',
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = spawn('ip', ['netns', 'exec', ns, 'curl', '-sf', '-m', '1', `${url}/readyz`], {
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((r) => probe.on('close', r));
    if (code === 0) break;
    if (server.child.exitCode !== null || Date.now() > deadline) {
      await server.kill('SIGKILL');
      throw new Error(`manager not ready:\n${server.lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { server, adminToken: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), url };
}
