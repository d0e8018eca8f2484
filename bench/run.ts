/**
 * `npm run bench [-- SUITE...] [--quick] [--exhaustive]`: runs the named suites (all when none is
 * named), prints each report and writes `bench/results/<suite>.json` (git-ignored).
 * Later suites (server fan-out, agent data plane) register here beside `core`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatCoreReport, ratiosOf, targetsOf } from './core-report.js';
import { FULL_CORE, QUICK_CORE, runCore } from './core.js';
import { busyWarning, formatMachine, machineInfo, type MachineInfo } from './machine.js';
import { reactionsSuite } from './reactions.js';

/** Command-line switches every suite receives. */
export interface RunOptions {
  /** Smaller scale, shorter time boxes (development; not the targets' scale). */
  quick: boolean;
  /** Also run the slow baselines at sizes where they take minutes. */
  exhaustive: boolean;
  log: (line: string) => void;
}

/** A suite: runs, returns the JSON to save and the text to print, and whether everything agreed. */
export interface Suite {
  description: string;
  run(opts: RunOptions): Promise<{ json: unknown; report: string; ok: boolean }>;
}

/** A mistake on the command line (not a bug). */
class UsageError extends Error {}

const SUITES: Record<string, Suite> = {
  core: {
    description: 'policy core: flow verdicts vs baselines, full compile, tag change → deltas',
    async run({ quick, exhaustive, log }) {
      const base = quick ? QUICK_CORE : FULL_CORE;
      const opts = exhaustive ? { ...base, slowBaselinesUpTo: Infinity } : base;
      const results = await runCore(opts, log);
      const ratios = ratiosOf(results);
      const targets = targetsOf(results, ratios);
      const ok = results.verdicts.every((v) => v.disagreements === 0);
      return { json: { ...results, ratios, targets }, report: formatCoreReport(results), ok };
    },
  },
  reactions: reactionsSuite,
};

function save(suite: string, machine: MachineInfo, json: unknown): string {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${suite}.json`, dir);
  writeFileSync(file, `${JSON.stringify({ suite, machine, ...(json as object) }, null, 2)}\n`);
  return file.pathname;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      exhaustive: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log('usage: npm run bench [-- SUITE...] [--quick] [--exhaustive]\nsuites:');
    for (const [name, s] of Object.entries(SUITES)) console.log(`  ${name}  ${s.description}`);
    return;
  }
  const names = positionals.length > 0 ? positionals : Object.keys(SUITES);
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`,
    );
  const machine = machineInfo();
  console.log(
    `vnp bench — ${formatMachine(machine)}${values.quick ? ' — QUICK (not at target scale)' : ''}`,
  );
  const busy = busyWarning(machine);
  if (busy) console.warn(busy);
  for (const name of names) {
    console.log(`\n== ${name}`);
    const out = await SUITES[name]!.run({
      quick: values.quick,
      exhaustive: values.exhaustive,
      log: (l) => console.log(l),
    });
    console.log(`\n${out.report}`);
    if (busy) console.warn(`\n${busy}`);
    console.log(`\nresults: ${save(name, machine, out.json)}`);
    if (!out.ok) {
      console.error(
        `\n!!! ${name}: judges disagree on verdicts — the figures above are not comparable`,
      );
      process.exitCode = 1;
    }
  }
}

try {
  await main();
} catch (e) {
  // A usage mistake gets one line; anything else is a bug and keeps its stack.
  console.error(e instanceof UsageError ? `bench: ${e.message}` : e);
  process.exitCode = 2;
}
