/**
 * PGlite on its own thread, when asked (`openPgliteStore({ worker: true })`; off by
 * default: docs/adr/0058-pglite-on-a-worker-thread.md).
 *
 * PostgreSQL compiled to WebAssembly runs every statement synchronously on the thread
 * that calls it: in the manager that was the main thread, which also parses HTTP,
 * plans writes and applies them to the engine. A group commit's statements and PGlite's
 * result decoding (and the garbage it makes) took about a third of the main thread
 * under 16 writers. Here one worker thread owns the PGlite instance; the main thread
 * sends statements and awaits their rows, and meanwhile serves requests and stages the
 * next group.
 *
 * Nothing about durability moves: a statement's promise resolves only when the worker
 * answered, so a COMMIT has returned (its WAL written to the data directory) before the
 * store's WAL fsync and before any acknowledgement, as on the main thread. The worker
 * dies with the process (SIGKILL), like the main thread's PGlite did.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SqlClient, SqlResult } from '../sql/sql-client.js';
import { SerialQueue } from './serial-queue.js';

/**
 * The worker's program (plain JavaScript, run with `eval`: no file to find in the
 * source tree, the build or the bundle). One message in, one answer out, in order.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let db;
const errorOf = (e) => {
  const out = { message: String(e && e.message !== undefined ? e.message : e), name: e && e.name };
  if (e && typeof e === 'object')
    for (const [k, v] of Object.entries(e))
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
  return out;
};
const blobCopy = (text) => text.replace(/\\bFROM\\s+STDIN\\b/i, "FROM '/dev/blob'");
async function handle(m) {
  switch (m.op) {
    case 'open': {
      const { PGlite } = await import(workerData.pgliteUrl);
      const { extraStartParams, ...options } = m.options;
      db = await PGlite.create({
        ...options,
        startParams: [...PGlite.defaultStartParams, ...extraStartParams],
        pgliteWasmModule: workerData.wasmModule,
      });
      return undefined;
    }
    case 'query':
      return (await db.query(m.text, m.params)).rows;
    case 'exec': {
      const results = await db.exec(m.text);
      return results.length > 0 ? results[results.length - 1].rows : [];
    }
    case 'copy':
      await db.query(blobCopy(m.text), [], { blob: new Blob([m.data]) });
      return undefined;
    case 'close':
      await db.close();
      return undefined;
  }
  throw new Error('pglite worker: unknown op ' + m.op);
}
parentPort.on('message', (m) => {
  handle(m).then(
    (rows) => parentPort.postMessage({ id: m.id, rows }),
    (e) => parentPort.postMessage({ id: m.id, error: errorOf(e) }),
  );
});
`;

/** What PGlite.create takes in the worker (the module travels separately). */
export interface WorkerOpenOptions {
  dataDir: string;
  relaxedDurability: boolean;
  /** After PGlite's default start parameters. */
  extraStartParams: string[];
}

type Request =
  | { op: 'open'; options: WorkerOpenOptions }
  | { op: 'query'; text: string; params: unknown[] }
  | { op: 'exec'; text: string }
  | { op: 'copy'; text: string; data: Uint8Array }
  | { op: 'close' };

interface Answer {
  id: number;
  rows?: unknown[];
  error?: Record<string, unknown> & { message: string };
}

/** The worker's error as an Error on this thread, with its fields (code, detail, …). */
function rebuilt(error: Answer['error'] & object): Error {
  const e = new Error(error.message);
  for (const [k, v] of Object.entries(error)) if (k !== 'message') Object.assign(e, { [k]: v });
  return e;
}

/** A PGlite instance running on a worker thread, spoken to by messages. */
export class PgliteWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }
  >();
  private next = 0;
  private dead: Error | undefined;

  private constructor(wasmModule: WebAssembly.Module) {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { wasmModule, pgliteUrl: pathToFileURL(join(dist, 'index.js')).href },
    });
    this.worker.on('message', (a: Answer) => this.answered(a));
    this.worker.on('error', (e) => this.died(e));
    this.worker.on('exit', (code) => this.died(new Error(`pglite worker exited (${code})`)));
  }

  /**
   * Start the worker and open the database in it.
   *
   * @example const w = await PgliteWorker.open(wasmModule, { dataDir, relaxedDurability: false, startParams });
   */
  static async open(
    wasmModule: WebAssembly.Module,
    options: WorkerOpenOptions,
  ): Promise<PgliteWorker> {
    const w = new PgliteWorker(wasmModule);
    try {
      await w.send({ op: 'open', options });
    } catch (e) {
      await w.worker.terminate();
      throw e;
    }
    return w;
  }

  /** One request to the worker; resolves with its rows. */
  send(req: Request): Promise<unknown[]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  /** Close the database, then end the thread. */
  async close(): Promise<void> {
    try {
      if (!this.dead) await this.send({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }

  private answered(a: Answer): void {
    const w = this.waiting.get(a.id);
    if (!w) return;
    this.waiting.delete(a.id);
    if (a.error) w.reject(rebuilt(a.error));
    else w.resolve(a.rows ?? []);
  }

  /** The thread is gone: whatever waits fails, and so does anything sent later. */
  private died(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.values()) w.reject(this.dead);
    this.waiting.clear();
  }
}

/**
 * A SqlClient over a PGlite worker: statements and transactions serialized (one
 * connection), a transaction as BEGIN … COMMIT (ROLLBACK when its function throws).
 *
 * @example const client = workerClient(await PgliteWorker.open(module, options));
 */
export function workerClient(w: PgliteWorker): SqlClient {
  const queue = new SerialQueue();
  const query = async <Row>(text: string, params?: unknown[]): Promise<SqlResult<Row>> => ({
    rows: (await w.send({ op: 'query', text, params: params ?? [] })) as Row[],
  });
  const copyIn = async (text: string, data: Uint8Array): Promise<void> => {
    if (!/\bFROM\s+STDIN\b/i.test(text))
      throw new Error(`copyIn: not a COPY … FROM STDIN statement: ${text}`);
    // A message copies a view's whole buffer: a view of part of one goes as its own copy.
    const exact = data.byteLength === data.buffer.byteLength ? data : data.slice();
    await w.send({ op: 'copy', text, data: exact });
  };
  const tx: SqlClient = {
    query,
    transaction: (fn) => fn(tx), // already inside the one transaction: join it
    copyIn,
  };
  return {
    query: (text, params) => queue.run(() => query(text, params)),
    transaction: (fn) =>
      queue.run(async () => {
        await w.send({ op: 'exec', text: 'BEGIN' });
        let out;
        try {
          out = await fn(tx);
        } catch (e) {
          await w.send({ op: 'exec', text: 'ROLLBACK' }).catch(() => undefined);
          throw e;
        }
        await w.send({ op: 'exec', text: 'COMMIT' });
        return out;
      }),
    copyIn: (text, data) => queue.run(() => copyIn(text, data)),
  };
}
