/**
 * One long-lived `nft -j -i` process that runs small documents, instead of one `nft`
 * process per document.
 *
 * Why: a one-element change costs the kernel well under a millisecond, but a fresh
 * `nft` process costs its start (dynamic linking of libnftables and eight more
 * libraries, the global init, `ip netns exec` where there is a namespace) and its
 * exit — 23 of the 23.5 ms of a one-entry `applyState` at 100,000 entries in the idle
 * bench (docs/adr/0056-one-nft-process.md). The interactive mode keeps the process,
 * and libnftables keeps its netlink socket; its cache is checked against the ruleset's
 * generation before every command (refetched when anything, our own commit included,
 * changed it), as a fresh process fetches it.
 *
 * How a command's outcome is known: nft reads one line at a time, runs it as one
 * transaction (`nft_run_cmd_from_buffer`, which returns after the kernel acknowledged
 * the whole batch, or refused it), and prints errors to stderr — nothing on success.
 * Each document goes as one line followed by a marker line, `describe meta length`,
 * which prints a fixed text without touching the kernel or the cache. stderr is the
 * same pipe as stdout, so what arrives before the marker's text is the document's
 * output: empty means committed; anything else means refused (the caller falls back to
 * a one-shot run, whose exit code decides).
 *
 * Limits of the mode, each handled here: libedit reads a non-terminal input one byte
 * per read(2), so only documents up to {@link SESSION_MAX_BYTES} go this way; it keeps
 * every line in its history, so the process is replaced after
 * {@link SESSION_RESTART_BYTES} of input; it reads and writes `$HOME/.nft.history`, so
 * HOME is /dev/null (both fail harmlessly, nothing is written anywhere).
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Larger documents run as one-shot `nft -j -f` (libedit reads input bytewise). */
export const SESSION_MAX_BYTES = 32 * 1024;
/** Input after which the process is replaced (libedit keeps every line as history). */
export const SESSION_RESTART_BYTES = 16 * 1024 * 1024;

const MARKER_COMMAND = 'describe meta length';
/** What {@link MARKER_COMMAND} prints (nft 1.0.x); checked when the session starts. */
const MARKER_TEXT = 'meta expression, datatype integer (integer), 32 bits\n';
/** An answer that takes longer ends the process (the caller falls back to one-shot). */
const ANSWER_TIMEOUT_MS = 20_000;

/** The outcome of one document: committed, or refused with nft's output. */
export type SessionResult = { ok: true } | { ok: false; output: string };

interface Waiter {
  resolve: (r: SessionResult) => void;
  reject: (e: Error) => void;
}

/**
 * A queue of documents run by one `nft -j -i` process, started on first use and
 * restarted after it exits or after {@link SESSION_RESTART_BYTES} of input. Unreferenced
 * while idle: it never keeps the agent's event loop alive.
 *
 * @example const s = new NftSession(['ip', 'netns', 'exec', 'ns1']); await s.run(json);
 */
export class NftSession {
  private child: ChildProcess | undefined;
  private output = '';
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private written = 0;
  private timer: NodeJS.Timeout | undefined;
  /**
   * The mode does not work here (the marker printed something else, or nothing in
   * time, when a process started): every document should run one-shot.
   */
  broken = false;

  /** `prefix`: the argv that runs a command where nft must run (a namespace), or []. */
  constructor(private readonly prefix: string[]) {}

  /**
   * Runs one document (one line of JSON) as one transaction. Rejects when the process
   * failed or exited before answering: the document may or may not have been committed.
   */
  run(doc: string): Promise<SessionResult> {
    const run = this.queue.then(() => this.runNow(doc));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the process (it exits on end of input); a command out is rejected. */
  close(): void {
    const child = this.child;
    if (!child) return;
    this.fail(child, 'closed');
    child.stdin!.end();
  }

  private async runNow(doc: string): Promise<SessionResult> {
    if (doc.includes('\n')) throw new Error('nft session: a document must be one line');
    if (this.child && this.written + doc.length > SESSION_RESTART_BYTES) this.close();
    if (!this.child) {
      // A new process answers the marker alone first: proof that the mode works here.
      const probe = await this.send(this.start(), '');
      if (!probe.ok) {
        this.broken = true;
        this.close();
        throw new Error(`nft session: unexpected answer: ${probe.output.slice(0, 200)}`);
      }
    }
    this.written += doc.length;
    return this.send(this.child!, `${doc}\n`);
  }

  /** Writes `lines` and the marker; resolves with what nft printed before the marker. */
  private send(child: ChildProcess, lines: string): Promise<SessionResult> {
    return new Promise<SessionResult>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.hold(child, true);
      this.timer = setTimeout(() => {
        this.broken ||= lines === '';
        this.fail(child, `no answer in ${ANSWER_TIMEOUT_MS} ms`);
        child.kill('SIGKILL');
      }, ANSWER_TIMEOUT_MS);
      child.stdin!.write(`${lines}${MARKER_COMMAND}\n`);
    });
  }

  private start(): ChildProcess {
    // stderr into the stdout pipe, so the order of errors and marker is nft's own;
    // HOME /dev/null: no history file is read or written.
    const script = 'export HOME=/dev/null; exec "$@" 2>&1';
    const argv = [...this.prefix, 'sh', '-c', script, 'sh', 'nft', '-j', '-i'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child = child;
    this.output = '';
    this.written = 0;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.read(child, d));
    child.stdin!.on('error', () => undefined);
    child.on('error', (e) => this.fail(child, e.message));
    child.on('close', (code) => this.fail(child, `nft exited (${code})`));
    return child;
  }

  /** The process failed or exited: the command out (if any) is rejected. */
  private fail(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    clearTimeout(this.timer);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(new Error(`nft session: ${why}`));
  }

  private read(child: ChildProcess, chunk: string): void {
    if (this.child !== child) return;
    this.output += chunk;
    if (!this.output.endsWith(MARKER_TEXT)) return;
    const out = this.output.slice(0, -MARKER_TEXT.length).trim();
    this.output = '';
    clearTimeout(this.timer);
    const w = this.waiter;
    this.waiter = undefined;
    this.hold(child, false);
    w?.resolve(out === '' ? { ok: true } : { ok: false, output: out });
  }

  /** Referenced while a command is out, so a waiting caller keeps the loop alive. */
  private hold(child: ChildProcess, busy: boolean): void {
    const handles = [child, child.stdin, child.stdout] as { ref(): void; unref(): void }[];
    for (const h of handles)
      if (busy) h.ref();
      else h.unref();
  }
}
