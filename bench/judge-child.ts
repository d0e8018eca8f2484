/**
 * Measures one judge in a fresh process (spawned by bench/core.ts) and prints one
 * JSON line (a `JudgeRun`). The model is regenerated here from the same seed, so
 * the parent and every child judge the same documents and flows.
 *
 * Usage: node --import tsx bench/judge-child.ts --judge vnp-verdict --policies 1000 \
 *   --records 10000 --flows 4096 --warmup-ms 300 --run-ms 1500 --sample 128 --sample-ms 3000
 */
import { parseArgs } from 'node:util';
import { generateModel } from './generate.js';
import { runJudge } from './judge-run.js';
import { judgeId } from './judges.js';

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      judge: { type: 'string' },
      policies: { type: 'string' },
      records: { type: 'string' },
      flows: { type: 'string' },
      'warmup-ms': { type: 'string' },
      'run-ms': { type: 'string' },
      sample: { type: 'string' },
      'sample-ms': { type: 'string' },
    },
  });
  const model = generateModel({
    policies: Number(v.policies),
    records: Number(v.records),
    flows: Number(v.flows),
  });
  const run = await runJudge(judgeId(v.judge ?? ''), model, {
    timing: { warmupMs: Number(v['warmup-ms']), runMs: Number(v['run-ms']) },
    sample: { flows: Number(v.sample), ms: Number(v['sample-ms']) },
  });
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

await main();
