/**
 * Runs in a fresh process (spawned by bench/core.ts) so its memory is the engine's
 * and the generated documents' only: generate the model, `engine.load` it, record the
 * load time and the peak RSS, build one PEP's snapshot, then time single-record tag changes
 * (`engine.apply([{op: 'put', doc}])` → delta ready). Prints one JSON line.
 *
 * Usage: node --import tsx bench/compile-child.ts --records 100000 --policies 10000 --changes 200
 */
import { parseArgs } from 'node:util';
import { Engine } from '../src/engine/index.js';
import type { Interface } from '../src/model/types.js';
import { generateModel } from './generate.js';
import { percentile } from './measure.js';

/** What the child reports (bytes, milliseconds). */
export interface CompileChildResult {
  records: number;
  policies: number;
  documents: number;
  /** RSS with the documents generated, before `load`. */
  rssBeforeLoad: number;
  rssAfterLoad: number;
  /** Peak RSS of the process up to the end of `load` (getrusage maxrss). */
  peakRss: number;
  loadMs: number;
  stats: Record<string, number>;
  /** One PEP's snapshot right after load (`hostState('h0')`): the lazily built tables it needs. */
  firstSnapshotMs: number;
  /** Engine stats when the tag changes ran (after that snapshot). */
  statsAtChanges: Record<string, number>;
  changes: number;
  applyP50Ms: number;
  applyP99Ms: number;
  applyMaxMs: number;
  /** Mean number of (identity, direction) sides a change touched. */
  meanSides: number;
}

type LoadInput = Parameters<Engine['load']>[0];
const ENVS = ['prod', 'staging', 'dev'];

function ms(from: bigint, to: bigint): number {
  return Number(to - from) / 1e6;
}

/** The k-th change: alternately a new env or a new app for a spread-out record. */
function retag(records: Interface[], apps: number, k: number): Interface {
  const i = (k * 7919) % records.length;
  const r = records[i]!;
  const tags = { ...r.tags };
  if (k % 2 === 0) tags['env'] = ENVS[(ENVS.indexOf(String(tags['env'])) + 1) % ENVS.length]!;
  else tags['app'] = `a${(Number(String(tags['app']).slice(1)) + 1 + (k % 97)) % apps}`;
  const next = { ...r, tags };
  records[i] = next;
  return next;
}

function timeChanges(
  engine: Engine,
  records: Interface[],
  apps: number,
  count: number,
  warmup: number,
) {
  const samples: number[] = [];
  let sides = 0;
  for (let k = 0; k < warmup + count; k++) {
    const doc = retag(records, apps, k);
    const t0 = process.hrtime.bigint();
    const delta = engine.apply([{ op: 'put', doc: { kind: 'Interface', ...doc } }], 1000 + k);
    const t1 = process.hrtime.bigint();
    if (k >= warmup) {
      samples.push(ms(t0, t1));
      sides += delta.sides.length;
    }
  }
  return { samples, meanSides: count > 0 ? sides / count : 0 };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '100000' },
      policies: { type: 'string', default: '10000' },
      changes: { type: 'string', default: '200' },
    },
  });
  const records = Number(values.records);
  const policies = Number(values.policies);
  const changes = Number(values.changes);
  const model = generateModel({ policies, records, flows: 16 });
  const rssBeforeLoad = process.memoryUsage().rss;
  const engine = new Engine({ identityGraceMs: 30_000 });
  const t0 = process.hrtime.bigint();
  engine.load(model.documents as unknown as LoadInput, 0);
  const t1 = process.hrtime.bigint();
  const rssAfterLoad = process.memoryUsage().rss;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const stats = { ...engine.stats() };
  const s0 = process.hrtime.bigint();
  engine.hostState('h0', 1);
  const firstSnapshotMs = ms(s0, process.hrtime.bigint());
  const statsAtChanges = { ...engine.stats() };
  const { samples, meanSides } = timeChanges(engine, model.records, policies, changes, 20);
  const result: CompileChildResult = {
    records,
    policies,
    documents: model.documents.length,
    rssBeforeLoad,
    rssAfterLoad,
    peakRss,
    loadMs: ms(t0, t1),
    stats,
    firstSnapshotMs,
    statsAtChanges,
    changes,
    applyP50Ms: percentile(samples, 50),
    applyP99Ms: percentile(samples, 99),
    applyMaxMs: Math.max(...samples),
    meanSides,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
