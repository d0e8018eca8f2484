/**
 * Start-up suite (issue 16 §1–§2), every figure beside its baseline measured in the
 * same run, rounds interleaved so load on the machine falls on both sides:
 *  - the manager's first start on an empty directory vs a bare `PGlite.create(dir)`
 *    on an empty directory;
 *  - its restart with the three-tier example (9 records) and with 10,000 records vs a
 *    bare PGlite reopening the same database;
 *  - its resident memory, idle, vs the bare PGlite's;
 *  - `vnp --version`, `vnp --help` and `vnp get interfaces` against the running
 *    manager vs `node -e 0`.
 * The manager is the compiled build (`node bin/vnp.js server`, as `npm start` runs it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VnpClient } from '../src/client/client.js';
import { generateModel } from './generate.js';
import { percentile } from './measure.js';
import type { RunOptions, Suite } from './run.js';
import {
  REPO,
  VNP_BIN,
  startBare,
  startManager,
  stop,
  timeCommand,
  type Manager,
  type Started,
} from './startup-processes.js';
import { formatMiB, formatRatio, formatTable } from './table.js';
import { DEFAULT_SHARED_BUFFERS } from '../src/store/pglite/pglite-store.js';

/** Records in the large restart. */
const LARGE = 10_000;
/** How long a started process idles before its memory is read. */
const IDLE_MS = 2000;

const TARGETS = { firstStart: 1.3, restart: 1.3, rss: 1.2, version: 1.5, getMs: 200 };

type Pair = { bare: Started[]; vnp: Started[] };

interface CliSamples {
  nodeE0: number[];
  version: number[];
  help: number[];
  getInterfaces: number[];
}

const median = (xs: readonly number[]): number => percentile(xs, 50);

async function loadLarge(manager: Manager): Promise<void> {
  const token = readFileSync(join(manager.dataDir, 'admin.token'), 'utf8').trim();
  const { documents } = generateModel({ policies: 100, records: LARGE });
  await new VnpClient({ server: manager.url, token }).apply({ documents });
}

/** `vnp …` as the user runs it, against the manager (its admin token from the data dir). */
function vnp(manager: Manager, args: string[]): Promise<number> {
  return timeCommand([VNP_BIN, ...args], {
    VNP_SERVER: manager.url,
    VNP_DATA_DIR: manager.dataDir,
  });
}

async function cliSamples(manager: Manager, runs: number): Promise<CliSamples> {
  const s: CliSamples = { nodeE0: [], version: [], help: [], getInterfaces: [] };
  for (let i = 0; i < runs; i++) {
    s.nodeE0.push(await timeCommand(['-e', '0']));
    s.version.push(await vnp(manager, ['--version']));
    s.help.push(await vnp(manager, ['--help']));
    s.getInterfaces.push(await vnp(manager, ['get', 'interfaces']));
  }
  return s;
}

/** Start a manager, measure it, let `work` use it, stop it. */
async function withManager(
  dataDir: string,
  into: Started[],
  work?: (m: Manager) => Promise<void>,
): Promise<void> {
  const { manager, started } = await startManager(dataDir, IDLE_MS);
  into.push(started);
  try {
    await work?.(manager);
  } finally {
    await stop(manager.child);
  }
}

async function withBare(dir: string, into: Started[], sharedBuffers?: string): Promise<void> {
  const { child, started } = await startBare(dir, IDLE_MS, sharedBuffers);
  into.push(started);
  await stop(child);
}

interface StartupResults {
  rounds: number;
  first: Pair;
  restart: Pair;
  restartLarge: Pair;
  /** Bare PGlite with vnp's buffer pool reopening the same directories (9, 10,000 records). */
  samePool: { restart: Started[]; restartLarge: Started[] };
  cli: CliSamples;
}

async function measureAll(opts: RunOptions, root: string): Promise<StartupResults> {
  const rounds = opts.quick ? 1 : 3;
  const cliRuns = opts.quick ? 5 : 15;
  const r: StartupResults = {
    rounds,
    first: { bare: [], vnp: [] },
    restart: { bare: [], vnp: [] },
    restartLarge: { bare: [], vnp: [] },
    samePool: { restart: [], restartLarge: [] },
    cli: { nodeE0: [], version: [], help: [], getInterfaces: [] },
  };
  const large = join(root, 'large');
  opts.log(`loading ${LARGE.toLocaleString('en-US')} records into a manager…`);
  await withManager(large, [], loadLarge);
  for (let round = 0; round < rounds; round++) {
    opts.log(`round ${round + 1}/${rounds}: first open, first start…`);
    const small = join(root, `small-${round}`);
    await withBare(join(root, `bare-${round}`), r.first.bare);
    await withManager(small, r.first.vnp, async (m) => {
      await vnp(m, ['apply', '-f', 'examples/three-tier']);
      if (round === 0) {
        opts.log(`  CLI: ${cliRuns} runs of each command…`);
        r.cli = await cliSamples(m, cliRuns);
      }
    });
    opts.log(`  restarts (${round + 1}/${rounds})…`);
    await withBare(join(small, 'pg'), r.restart.bare);
    await withManager(small, r.restart.vnp);
    await withBare(join(small, 'pg'), r.samePool.restart, DEFAULT_SHARED_BUFFERS);
    await withBare(join(large, 'pg'), r.restartLarge.bare);
    await withManager(large, r.restartLarge.vnp);
    await withBare(join(large, 'pg'), r.samePool.restartLarge, DEFAULT_SHARED_BUFFERS);
  }
  return r;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const msText = (ms: number): string => `${ms.toFixed(0)} ms`;

function ratioRow(
  what: string,
  bare: number,
  vnp: number,
  target: number,
  fmt: (n: number) => string,
): string[] {
  const ratio = vnp / bare;
  return [
    what,
    fmt(bare),
    fmt(vnp),
    formatRatio(ratio),
    `≤ ${formatRatio(target)}`,
    ratio <= target ? 'met' : 'MISSED',
  ];
}

/** vnp's own work: the restarts beside a bare PGlite with vnp's buffer pool (no target). */
function samePoolRows(r: StartupResults): string[][] {
  const rows: string[][] = [];
  const pairs = [
    ['9 records', r.samePool.restart, r.restart.vnp],
    [`${LARGE.toLocaleString('en-US')} records`, r.samePool.restartLarge, r.restartLarge.vnp],
  ] as const;
  for (const [what, bare, vnp] of pairs) {
    const ready = [median(bare.map((s) => s.readyMs)), median(vnp.map((s) => s.readyMs))];
    const cpu = [median(bare.map((s) => s.cpuMs)), median(vnp.map((s) => s.cpuMs))];
    const rss = [median(bare.map((s) => s.rssBytes)), median(vnp.map((s) => s.rssBytes))];
    rows.push(
      [
        `restart, ${what}: time`,
        seconds(ready[0]!),
        seconds(ready[1]!),
        formatRatio(ready[1]! / ready[0]!),
      ],
      [`restart, ${what}: CPU`, seconds(cpu[0]!), seconds(cpu[1]!), formatRatio(cpu[1]! / cpu[0]!)],
      [
        `restart, ${what}: RSS`,
        formatMiB(rss[0]!),
        formatMiB(rss[1]!),
        formatRatio(rss[1]! / rss[0]!),
      ],
    );
  }
  return rows;
}

function summarise(r: StartupResults) {
  const m = (xs: Started[], f: (s: Started) => number): number => median(xs.map(f));
  const ready = (s: Started): number => s.readyMs;
  const cpu = (s: Started): number => s.cpuMs;
  const rss = (s: Started): number => s.rssBytes;
  const startRows = [
    ratioRow(
      'first start, empty dir',
      m(r.first.bare, ready),
      m(r.first.vnp, ready),
      TARGETS.firstStart,
      seconds,
    ),
    ratioRow(
      'restart, 9 records',
      m(r.restart.bare, ready),
      m(r.restart.vnp, ready),
      TARGETS.restart,
      seconds,
    ),
    ratioRow(
      `restart, ${LARGE.toLocaleString('en-US')} records`,
      m(r.restartLarge.bare, ready),
      m(r.restartLarge.vnp, ready),
      TARGETS.restart,
      seconds,
    ),
  ];
  const cpuRows = [
    ratioRow(
      'first start, empty dir',
      m(r.first.bare, cpu),
      m(r.first.vnp, cpu),
      TARGETS.firstStart,
      seconds,
    ),
    ratioRow(
      'restart, 9 records',
      m(r.restart.bare, cpu),
      m(r.restart.vnp, cpu),
      TARGETS.restart,
      seconds,
    ),
    ratioRow(
      `restart, ${LARGE.toLocaleString('en-US')} records`,
      m(r.restartLarge.bare, cpu),
      m(r.restartLarge.vnp, cpu),
      TARGETS.restart,
      seconds,
    ),
  ];
  const rssRows = [
    ratioRow(
      'after first start',
      m(r.first.bare, rss),
      m(r.first.vnp, rss),
      TARGETS.rss,
      formatMiB,
    ),
    ratioRow(
      'after restart, 9 records',
      m(r.restart.bare, rss),
      m(r.restart.vnp, rss),
      TARGETS.rss,
      formatMiB,
    ),
    ratioRow(
      `after restart, ${LARGE.toLocaleString('en-US')} records`,
      m(r.restartLarge.bare, rss),
      m(r.restartLarge.vnp, rss),
      TARGETS.rss,
      formatMiB,
    ),
  ];
  const e0 = median(r.cli.nodeE0);
  const get = median(r.cli.getInterfaces);
  const cliRows = [
    ratioRow('vnp --version', e0, median(r.cli.version), TARGETS.version, msText),
    [
      'vnp --help',
      msText(e0),
      msText(median(r.cli.help)),
      formatRatio(median(r.cli.help) / e0),
      '',
      '',
    ],
    [
      'vnp get interfaces',
      msText(e0),
      msText(get),
      formatRatio(get / e0),
      `≤ ${TARGETS.getMs} ms`,
      get <= TARGETS.getMs ? 'met' : 'MISSED',
    ],
  ];
  return { startRows, cpuRows, rssRows, cliRows, samePoolRows: samePoolRows(r) };
}

function report(r: StartupResults): string {
  const s = summarise(r);
  const head = ['', 'bare PGlite', 'vnp server', 'ratio', 'target', ''];
  return [
    'The three start-up targets (issue 16 §1) are judged on wall time from spawn to serving, both',
    'sides measured in this run with rounds interleaved; CPU time is shown beside them because on',
    'a loaded machine wall time mostly measures the other load. The manager restarts after a clean',
    'shutdown (its model cache is current, docs/adr/0037-model-cache.md).',
    '',
    `Time to serve (spawn → bare: SELECT 1 answered; vnp: /readyz 200), median of ${r.rounds} round(s):`,
    formatTable(head, s.startRows),
    '',
    'CPU used by then (user + system, all threads; less sensitive to other load on the machine):',
    formatTable(head, s.cpuRows),
    '',
    `Resident memory after ${IDLE_MS / 1000} s idle:`,
    formatTable(head, s.rssRows),
    '',
    `vnp's own work: the same restarts beside a bare PGlite opened with vnp's buffer pool`,
    `(shared_buffers=${DEFAULT_SHARED_BUFFERS}, docs/adr/0051-pglite-buffer-pool.md; the targets compare with the defaults):`,
    formatTable(['', 'bare, same pool', 'vnp server', 'ratio'], s.samePoolRows),
    '',
    `CLI, wall time from spawn to exit, median of ${r.cli.nodeE0.length} runs (vnp get interfaces: 9 records):`,
    formatTable(['', 'node -e 0', 'vnp', 'ratio', 'target', ''], s.cliRows),
  ].join('\n');
}

export const startupSuite: Suite = {
  async run(opts) {
    if (!existsSync(join(REPO, 'dist/bundle/main.js')))
      throw new Error('no compiled build in dist/: run `npm run build` first');
    const root = await mkdtemp(join(tmpdir(), 'vnp-bench-startup-'));
    try {
      const results = await measureAll(opts, root);
      const s = summarise(results);
      return {
        json: { ...results, targets: TARGETS, summary: s },
        report: report(results),
        ok: true,
      };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};
