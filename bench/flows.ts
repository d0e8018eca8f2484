/**
 * Flows suite (issue #12, docs/flows.md): manager flow ingest (records/s from agents'
 * batches of 500 as JSON — parsed, checked, queued by the manager's FlowHub, written as
 * it batches them — into PGlite and PostgreSQL; target ≥ 50k/s) and the `--against-flows` replay of every
 * ingested record through two engine snapshots (target: 1 M flows ≤ 2 s); and, in the
 * data-plane benchmark's network (bench/flows-kernel.ts), kernel event → watch latency
 * and the data-plane ratios with flow collection on ÷ off.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/engine/index.js';
import type { FlowRecord } from '../src/model/flow.js';
import { checkFlowBatch } from '../src/model/flow-validate.js';
import { DEFAULT_FLOW_RETENTION, FlowHub } from '../src/server/flows/flow-hub.js';
import { replayFlows } from '../src/server/flows/flow-replay.js';
import { openStore } from '../src/store/open-store.js';
import type { FlowStore, Store } from '../src/store/types.js';
import { reactionsModel } from './reactions.js';
import type { RunOptions, Suite } from './run.js';
import { formatRound, kernelFlowFigures } from './flows-kernel.js';
import { freshPostgres } from './server.js';

const RECORDS = 1000;
const AGENT_BATCH = 500;

function address(i: number): string {
  const a = i + 2;
  return `10.${64 + (a >> 16)}.${(a >> 8) & 255}.${a & 255}`;
}

/** Record i, reported by `host`: between two of the model's records, on one of 50 ports. */
function record(i: number, at: string, host: string): FlowRecord {
  const s = i % RECORDS;
  const d = (i * 7 + 1) % RECORDS;
  return {
    time: at,
    host,
    src: {
      address: address(s),
      port: 30000 + (i % 20000),
      record: `r${s}`,
      identity: 300,
      partitions: [],
    },
    dst: { address: address(d), port: 443, record: `r${d}`, identity: 301, partitions: [] },
    protocol: 'tcp',
    port: 400 + (i % 50),
    verdict: i % 3 ? 'allow' : 'deny',
    egress: { verdict: i % 3 ? 'allow' : 'deny', policy: `team-${s % 10}`, rule: 'egress[0]' },
    state: 'new',
  };
}

/** Agents' batches as they arrive (JSON), one cycle of the records' source ports. */
const WIRE_BATCHES = 20_000 / AGENT_BATCH;
const hostOf = (batch: number) => `h${batch % 10}`;

function wireBatches(at: string): string[] {
  return Array.from({ length: WIRE_BATCHES }, (_, b) =>
    JSON.stringify({
      records: Array.from({ length: AGENT_BATCH }, (_, k) =>
        record(b * AGENT_BATCH + k, at, hostOf(b)),
      ),
    }),
  );
}

/**
 * Records/s from the first agent batch taken to the last record stored, through what the
 * manager does with a batch: the frame's JSON parsed, the batch checked
 * (checkFlowBatch), then the FlowHub (its queue bound, flush timer, batching and
 * aggregates as in production). An agent whose batch is refused (queue full) waits
 * for the queued records to be written and sends the rest, as the agent's bounded
 * buffer does.
 */
export async function ingestFlows(store: FlowStore, n: number): Promise<number> {
  const at = new Date().toISOString();
  const wire = wireBatches(at);
  // The hub reports a failed write through onError and goes on (a manager must); a
  // throw there would escape from its timer as an unhandled rejection, far from this
  // run. Collected here, the run fails with them, counted.
  const errors: { err: unknown; what: string }[] = [];
  const hub = new FlowHub({
    store,
    now: Date.now,
    retention: DEFAULT_FLOW_RETENTION,
    partitionsOf: () => [],
    onError: (err, what) => void errors.push({ err, what }),
  });
  hub.start();
  const t0 = performance.now();
  for (let i = 0; i < n; i += AGENT_BATCH) {
    const b = i / AGENT_BATCH;
    const host = hostOf(b);
    let { records } = checkFlowBatch(JSON.parse(wire[b % WIRE_BATCHES]!), host);
    records = records.slice(0, n - i);
    for (;;) {
      const { queued } = hub.submit(host, { records });
      records = records.slice(queued);
      if (records.length === 0) break;
      await hub.flushRecords();
    }
    // Agents send over the network: let the hub's timer and writes interleave.
    if (b % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  await hub.stop();
  if (errors.length > 0 || hub.stats.stored !== n) {
    const { failed, refused, stored } = hub.stats;
    const first = errors[0] ? `; first: ${errors[0].what}: ${String(errors[0].err)}` : '';
    throw new Error(
      `stored ${stored} of ${n} records (${failed} failed, ${refused} refused, ${errors.length} errors${first})`,
      { cause: errors[0]?.err },
    );
  }
  return n / ((performance.now() - t0) / 1000);
}

export const flowsSuite: Suite = {
  async run(opts: RunOptions) {
    const n = opts.quick ? 20_000 : 1_000_000;
    const rows: Record<string, unknown>[] = [];
    const lines: string[] = [];
    let ok = true;
    const engine = new Engine();
    engine.load(reactionsModel(RECORDS, 20), Date.now());
    const snap = { before: engine.fork(), after: engine.fork() };
    const backends: [string, () => Promise<{ store: Store; done: () => Promise<void> }>][] = [
      [
        'pglite',
        async () => {
          const dir = await mkdtemp(join(tmpdir(), 'vnp-bench-flows-'));
          const store = await openStore({ dataDir: dir });
          return {
            store,
            done: async () => (
              await store.close(),
              await rm(dir, { recursive: true, force: true })
            ),
          };
        },
      ],
      [
        'postgres',
        async () => {
          const pg = await freshPostgres();
          if (!pg) throw new Error('PostgreSQL unreachable');
          const store = await openStore({ dataDir: '', databaseUrl: pg.url });
          return { store, done: async () => (await store.close(), await pg.drop()) };
        },
      ],
    ];
    for (const [name, open] of backends) {
      let opened;
      try {
        opened = await open();
      } catch (e) {
        lines.push(`${name}: skipped (${String(e)})`);
        continue;
      }
      try {
        opts.log(`flows: ingesting ${n} records on ${name}`);
        const perSecond = await ingestFlows(opened.store, n);
        const since = new Date(Date.now() - 3_600_000).toISOString();
        const replay = await replayFlows(opened.store, snap, since);
        rows.push({
          backend: name,
          records: n,
          ingestPerSecond: Math.round(perSecond),
          replayMs: replay.ms,
          replayDistinct: replay.distinct,
        });
        lines.push(
          `${name}: ingest ${Math.round(perSecond).toLocaleString('en')} records/s (target ≥ 50,000: ${(perSecond / 50_000).toFixed(2)}×); replay of ${replay.flows.toLocaleString('en')} flows (${replay.distinct} distinct) ${replay.ms} ms`,
        );
      } catch (e) {
        // A failed ingest fails the suite, and the other backend still runs.
        ok = false;
        lines.push(`${name}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        await opened.done();
      }
    }
    // The kernel half (bench/flows-kernel.ts): event → watch latency, on ÷ off ratios.
    opts.log('flows: kernel event latency and data-plane ratios (collection on ÷ off)');
    const kernel = await kernelFlowFigures(opts.quick, opts.log);
    if (typeof kernel === 'string') lines.push(`kernel: skipped (${kernel})`);
    else {
      rows.push({ kernel });
      lines.push(
        `kernel event → flows/watch: p50 ${kernel.latencyP50Ms.toFixed(0)} ms, p99 ${kernel.latencyP99Ms.toFixed(0)} ms over ${kernel.latencySamples} connections (target p99 ≤ 1000 ms)`,
        `throughput with collection on ÷ off: ${kernel.throughputRatio.toFixed(3)}, median of ${kernel.rounds.length} interleaved rounds' ratios after a warm-up round (quartiles ${kernel.throughputRatioQ1.toFixed(3)}–${kernel.throughputRatioQ3.toFixed(3)}; medians ${(kernel.onBps / 1e9).toFixed(2)} / ${(kernel.offBps / 1e9).toFixed(2)} Gbit/s; target ≥ 0.95)`,
        `new connections/s on ÷ off: ${kernel.connRateRatio.toFixed(3)}, median of the rounds' ratios (medians ${kernel.onConnPerSec.toFixed(0)} / ${kernel.offConnPerSec.toFixed(0)}; target ≥ 0.8)`,
        formatRound(-1, kernel.warmup),
        ...kernel.rounds.map((x, i) => formatRound(i, x)),
      );
    }
    return {
      json: { rows },
      report: `flows (${n.toLocaleString('en')} records from agents' JSON batches of ${AGENT_BATCH}: parsed, checked, through the FlowHub)\n${lines.join('\n')}\n`,
      ok,
    };
  },
};
