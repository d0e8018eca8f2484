/**
 * Running commands from a small helper process instead of the agent itself.
 *
 * Why: libuv starts a child by fork(), whose cost grows with the parent's memory (its
 * page tables are copied). An agent holding 100,000 entries paid 15–20 ms per `nft` or
 * `conntrack` it ran, against about 2 ms from a fresh process — most of a one-entry
 * update (docs/adr/0043-element-batches-and-marked-sweep.md). The helper is a bare
 * Node process started once (its own memory stays small), which receives argv and
 * input over an IPC channel, runs the command and sends back its exit code and output.
 * If the helper cannot be started or dies, commands run directly, as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Result of one command. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The helper's program (CommonJS, no imports beyond node's own). A command's input is
 * its standard input as an unlinked temporary file (see {@link inputFd}).
 */
const HELPER_JS = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnp-exec-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
process.on('message', ({ id, argv, input }) => {
  let child;
  let fd;
  try {
    if (input !== undefined) {
      const file = path.join(dir, String(id));
      fs.writeFileSync(file, input);
      fd = fs.openSync(file, 'r');
      fs.unlinkSync(file);
    }
    child = spawn(argv[0], argv.slice(1), {
      stdio: [fd === undefined ? 'ignore' : fd, 'pipe', 'pipe'],
    });
  } catch (err) {
    process.send({ id, error: String(err && err.message) });
    return;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  let stdout = '';
  let stderr = '';
  let failed = false;
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.on('error', (err) => {
    failed = true;
    process.send({ id, error: err.message });
  });
  child.on('close', (code) => {
    if (!failed) process.send({ id, code: code === null ? -1 : code, stdout, stderr });
  });
});
process.on('disconnect', () => process.exit(0));
`;

/** A reply of the helper. */
interface Reply extends Partial<ExecResult> {
  id: number;
  error?: string;
}

interface Pending {
  argv: string[];
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
}

/** Runs one command directly from this process (the fallback). */
export type DirectRun = (argv: string[], input?: string) => Promise<ExecResult>;

/**
 * One helper process, started on first use, kept while commands run and unreferenced
 * in between (it never keeps the agent's event loop alive).
 *
 * @example const r = await new Spawner(direct).run(['nft', '--version']);
 */
export class Spawner {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The helper could not run: every command goes direct from now on. */
  private broken = false;

  constructor(private readonly direct: DirectRun) {}

  run(argv: string[], input?: string): Promise<ExecResult> {
    const child = this.broken ? undefined : this.helper();
    if (!child) return this.direct(argv, input);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { argv, resolve, reject });
      this.hold(child);
      try {
        child.send({ id, argv, input });
      } catch {
        this.lose(child, false);
      }
    });
  }

  private helper(): ChildProcess | undefined {
    if (this.child) return this.child;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', HELPER_JS], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
    } catch {
      this.broken = true;
      return undefined;
    }
    child.on('message', (m: Reply) => this.settle(m));
    // A helper that fails or exits hands its commands to the direct path.
    child.on('error', () => this.lose(child, true));
    child.on('exit', () => this.lose(child, false));
    this.child = child;
    return child;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0 && this.child) this.release(this.child);
    if (reply.error !== undefined) p.reject(new Error(`${p.argv[0]}: ${reply.error}`));
    else
      p.resolve({ code: reply.code ?? -1, stdout: reply.stdout ?? '', stderr: reply.stderr ?? '' });
  }

  /**
   * The helper is gone: its unfinished commands fail (they may have run: an nft
   * transaction is never run twice); the next command starts a new helper, or runs
   * directly when the helper cannot start.
   */
  private lose(child: ChildProcess, broken: boolean): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (broken) this.broken = true;
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const p of lost) p.reject(new Error(`${p.argv[0]}: the command helper exited`));
  }

  private hold(child: ChildProcess): void {
    child.ref();
    child.channel?.ref();
  }

  private release(child: ChildProcess): void {
    child.unref();
    child.channel?.unref();
  }
}
