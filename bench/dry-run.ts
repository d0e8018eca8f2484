/**
 * `apply --dry-run` against the real apply (issue #11 High 4: "preview must not be
 * slower than the change itself"): over HTTP on a real manager (PGlite) holding the
 * bench model, POST /v1/apply of N new interfaces with `dryRun: true` (validation, the
 * impact preview on two forks), then the same batch for real (durable commit, engine
 * apply). Both from one process and one run, so the ratio holds under load. With
 * `VNP_BENCH_PROFILE=DIR`, each dry run is CPU-profiled to DIR/dry-run-<k>-<n>.cpuprofile.
 *
 * Loading the model runs the apply path (validation, commit, engine apply) but not the
 * preview's code, so the first dry run in a process also pays for compiling the
 * preview's JavaScript (several hundred ms under load). A warm-up of 100 interfaces,
 * dry run then apply, runs both paths once before the measured sizes; its figures are
 * reported too (the first dry run after a manager starts).
 *
 * One sample of each is one garbage collection away from a different ratio, so each size
 * runs ROUNDS times, interleaved with the other sizes (the model grows by every apply,
 * as a real one would), and a row is the median of its rounds' dry runs and applies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseSettings } from '../src/config/settings.js';
import { buildServer } from '../src/server/app.js';
import { createToken } from '../src/server/tokens.js';
import { openStore } from '../src/store/open-store.js';
import { startCpuProfile } from './cpu-profile.js';
import { generateModel } from './generate.js';
import type { RunOptions, Suite } from './run.js';
import { formatMs } from './table.js';

/** One batch size's figures. */
export interface DryRunRow {
  records: number;
  added: number;
  dryRunMs: number;
  applyMs: number;
  /** Each round's figures, in order; the row's are their medians. */
  rounds?: { dryRunMs: number; applyMs: number }[];
}

/** Rounds per size; see the file comment. */
const ROUNDS = 3;

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The rows, and the warm-up's (the process's first dry run). */
export interface DryRunResult {
  rows: DryRunRow[];
  warmUp: DryRunRow;
}

/**
 * Dry run, then apply, of `sizes` new interfaces each (in turn) on a model of `records`,
 * after a warm-up of 100 (see the file comment).
 *
 * @example const { rows } = await dryRunVsApply(opts, 2000, [1000, 5000]);
 */
export async function dryRunVsApply(
  opts: RunOptions,
  records: number,
  sizes: readonly number[],
): Promise<DryRunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vnp-bench-dry-'));
  const store = await openStore({ dataDir: dir });
  const settings = {
    ...parseSettings({ VNP_LOG_LEVEL: 'silent' }),
    bodyLimit: 64 * 1024 * 1024,
    rateLimit: undefined,
  };
  const server = await buildServer({ settings, store, logger: false });
  try {
    const { token } = await createToken(server.manager, { role: 'admin' }, 'bench');
    const apply = async (body: unknown): Promise<number> => {
      const t0 = performance.now();
      const r = await server.app.inject({
        method: 'POST',
        url: '/v1/apply',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      if (r.statusCode !== 200) throw new Error(`apply: ${r.statusCode} ${r.body.slice(0, 300)}`);
      return performance.now() - t0;
    };
    const model = generateModel({ policies: Math.max(10, records / 20), records, flows: 1 });
    await apply({ documents: model.documents });
    const like = model.records[0]!;
    // Addresses outside the model's records (10.0.0.0/8 subnet; records sit low in it).
    const batch = (k: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        kind: 'Interface',
        ...like,
        name: `dry-${k}-${i}`,
        ips: [`10.${200 + k}.${i >> 8}.${i & 255}`],
        tags: { ...like.tags, app: `a${i % 10}` },
      }));
    const warmBatch = batch(-1, 100);
    const warmDry = await apply({ documents: warmBatch, dryRun: true });
    const warmUp = {
      records,
      added: warmBatch.length,
      dryRunMs: warmDry,
      applyMs: await apply({ documents: warmBatch }),
    };
    const rounds = sizes.map(() => [] as { dryRunMs: number; applyMs: number }[]);
    for (let round = 0; round < ROUNDS; round++)
      for (const [i, n] of sizes.entries()) {
        const k = round * sizes.length + i;
        const documents = batch(k, n);
        const profileDir = process.env['VNP_BENCH_PROFILE'];
        const stop = profileDir ? await startCpuProfile() : undefined;
        const dryRunMs = await apply({ documents, dryRun: true });
        await stop?.(join(profileDir!, `dry-run-${k}-${n}.cpuprofile`));
        const applyMs = await apply({ documents });
        opts.log(
          `  dry run vs apply: ${n} new interfaces on ${records} records, round ${round + 1}`,
        );
        rounds[i]!.push({ dryRunMs, applyMs });
      }
    const rows = sizes.map((n, i) => ({
      records,
      added: n,
      dryRunMs: median(rounds[i]!.map((r) => r.dryRunMs)),
      applyMs: median(rounds[i]!.map((r) => r.applyMs)),
      rounds: rounds[i]!,
    }));
    return { rows, warmUp };
  } finally {
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report lines of a result (also in the reactions suite's report). */
export function dryRunReport({ rows, warmUp }: DryRunResult): string[] {
  const ratio = (r: DryRunRow) => (r.dryRunMs / r.applyMs).toFixed(2);
  return [
    `apply --dry-run, the process's first (warm-up, ${warmUp.added} new interfaces): ${formatMs(warmUp.dryRunMs)} vs apply ${formatMs(warmUp.applyMs)}, ratio ${ratio(warmUp)}`,
    ...rows.map(
      (r) =>
        `apply --dry-run of ${r.added} new interfaces (${r.records} records at the start, median of ${r.rounds?.length ?? 1}): ${formatMs(r.dryRunMs)} vs apply ${formatMs(r.applyMs)}, ratio ${ratio(r)} — target ≤ 1: ${r.dryRunMs <= r.applyMs ? 'MET' : 'MISSED'}` +
        (r.rounds
          ? `; rounds ${r.rounds.map((x) => (x.dryRunMs / x.applyMs).toFixed(2)).join(', ')}`
          : ''),
    ),
  ];
}

/** `npm run bench -- dry-run`: only these rows (the reactions suite also has them). */
export const dryRunSuite: Suite = {
  async run(opts) {
    const result = await dryRunVsApply(
      opts,
      opts.quick ? 500 : 2_000,
      opts.quick ? [200, 1_000] : [1_000, 5_000],
    );
    return {
      json: { dryRun: result.rows, dryRunWarmUp: result.warmUp },
      report: dryRunReport(result).join('\n'),
      ok: true,
    };
  },
};
