/**
 * Running the kernel tools (`nft`, `ip`, `bridge`, `conntrack`), optionally inside
 * a network namespace (`ip netns exec NS …`): the agent runs against a host's
 * root namespace in production and against test namespaces in tests.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VnpError } from '../model/errors.js';
import { Spawner, type ExecResult } from './spawner.js';

export type { ExecResult };

/**
 * Runs argv, with stdin text; never throws for a non-zero exit. `prefix`, when set,
 * is the argv that runs a command where this Exec runs it (`ip netns exec NS`, or
 * nothing): for the long-lived processes that do not go through it (nft/session.ts).
 */
export type Exec = ((argv: string[], input?: string) => Promise<ExecResult>) & {
  readonly prefix?: readonly string[];
};

/** Commands of every Exec go through one helper process (spawner.ts: fork cost). */
const spawner = new Spawner(runDirect);

/**
 * An Exec running commands (through the command helper, see spawner.ts), or inside
 * namespace `netns` when given.
 *
 * @example const exec = makeExec('vnpt-ab12-h1'); await exec(['ip', '-j', 'link']);
 */
export function makeExec(netns?: string): Exec {
  const prefix = netns ? ['ip', 'netns', 'exec', netns] : [];
  const exec = (argv: string[], input?: string) => spawner.run([...prefix, ...argv], input);
  return Object.assign(exec, { prefix });
}

/**
 * Standard input carrying `input`: an unlinked temporary file. Node's stdio "pipes" are
 * socketpairs, and `nft -f -` opens /dev/stdin, which fails on a socket (ENXIO); a
 * file also spares the `sh -c 'cat | …'` (two more processes per command) this took.
 */
function inputFd(input: string): number {
  inputDir ??= mkdtempSync(join(tmpdir(), 'vnp-exec-'));
  const file = join(inputDir, String(++inputs));
  writeFileSync(file, input);
  const fd = openSync(file, 'r');
  unlinkSync(file);
  return fd;
}
let inputDir: string | undefined;
let inputs = 0;

/** Runs argv from this process itself (when the helper cannot start). */
export function runDirect(full: string[], input?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const fd = input === undefined ? undefined : inputFd(input);
    let child;
    try {
      child = spawn(full[0]!, full.slice(1), { stdio: [fd ?? 'ignore', 'pipe', 'pipe'] });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Runs argv and throws when it fails (VNP_ERR_INTERNAL naming the command).
 *
 * @example const out = await mustRun(exec, ['ip', '-j', 'addr']);
 */
export async function mustRun(exec: Exec, argv: string[], input?: string): Promise<string> {
  const r = await exec(argv, input);
  if (r.code !== 0) {
    throw new VnpError(
      'VNP_ERR_INTERNAL',
      `${argv.join(' ')} failed (${r.code}): ${r.stderr.trim().slice(0, 2000)}`,
      { field: 'exec', command: argv.join(' ') },
    );
  }
  return r.stdout;
}
