/**
 * `npm run bench [-- SUITE...] [--quick] [--exhaustive]`: runs the named suites (all when none is
 * named), prints each report and writes `bench/results/<suite>.json` (git-ignored).
 * Suites register in `SUITES` (loaded only when run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { busyWarning, formatMachine, machineInfo, type MachineInfo } from './machine.js';

/** Command-line switches every suite receives. */
export interface RunOptions {
  /** Smaller scale, shorter time boxes (development; not the targets' scale). */
  quick: boolean;
  /** Also run the slow baselines at sizes where they take minutes. */
  exhaustive: boolean;
  log: (line: string) => void;
}

/**
 * A suite: runs, returns the JSON to save and the text to print, and whether everything
 * agreed. (Its one-line description lives in SUITES, where `--help` reads it.)
 */
export interface Suite {
  run(opts: RunOptions): Promise<{ json: unknown; report: string; ok: boolean }>;
}

/** A mistake on the command line (not a bug). */
class UsageError extends Error {}

/** The core suite (kept here: it is only glue between core.ts and core-report.ts). */
async function coreSuite(): Promise<Suite> {
  const { formatCoreReport, ratiosOf, targetsOf } = await import('./core-report.js');
  const { FULL_CORE, QUICK_CORE, runCore } = await import('./core.js');
  return {
    async run({ quick, exhaustive, log }) {
      const base = quick ? QUICK_CORE : FULL_CORE;
      const opts = exhaustive ? { ...base, slowBaselinesUpTo: Infinity } : base;
      const results = await runCore(opts, log);
      const ratios = ratiosOf(results);
      const targets = targetsOf(results, ratios);
      const ok = results.verdicts.every((v) => v.disagreements === 0);
      return { json: { ...results, ratios, targets }, report: formatCoreReport(results), ok };
    },
  };
}

/**
 * Suites load lazily: running one suite never imports another's code, so a suite
 * that does not build (or needs a database) cannot break the others.
 */
const SUITES: Record<string, { description: string; load: () => Promise<Suite> }> = {
  core: {
    description: 'policy core: flow verdicts vs baselines, full compile, tag change → deltas',
    load: coreSuite,
  },
  server: {
    description:
      'manager over HTTP: tag-change writes/s and p99, group commit (16 writers), mixed load (32 connections), check requests/s; PGlite and PostgreSQL',
    load: async () => (await import('./server.js')).serverSuite,
  },
  distribution: {
    description: 'agent protocol: one tag change to 100/1,000/10,000 simulated agents, time to ACK',
    load: async () => (await import('./distribution.js')).distributionSuite,
  },
  reactions: {
    description:
      'reactions: event → reaction → deltas ready (p99, PGlite and PostgreSQL), impact preview of 1,000 identities, tag change → feed step at 20k/50k records',
    load: async () => (await import('./reactions.js')).reactionsSuite,
  },
  'dry-run': {
    description:
      'apply --dry-run of 1,000 and 5,000 new interfaces against the real apply, over HTTP on PGlite (also in reactions)',
    load: async () => (await import('./dry-run.js')).dryRunSuite,
  },
  k8s: {
    description:
      'Kubernetes import: 10,000 pods and 1,000 NetworkPolicies — import time, verdicts/s vs native vnp documents',
    load: async () => (await import('./k8s.js')).k8sSuite,
  },
  startup: {
    description:
      'start-up: manager first start, restart (9 and 10,000 records) and idle memory vs a bare PGlite; vnp --version/--help/get vs node -e 0',
    load: async () => (await import('./startup.js')).startupSuite,
  },
  security: {
    description:
      'fuzz: ≥ 100,000 inputs from every /openapi.json operation plus raw malformed HTTP, counts by status (no 5xx, refusals change nothing, /healthz < 1 s)',
    load: async () => (await import('./security.js')).securitySuite,
  },
  flows: {
    description:
      'flows: manager flow ingest records/s through the FlowHub (PGlite and PostgreSQL) and the --against-flows replay of 1 M ingested flows',
    load: async () => (await import('./flows.js')).flowsSuite,
  },
  ui: {
    description:
      'web UI in Chromium with 10,000 records and 1,000 policies: first meaningful paint and every view switch',
    load: async () => (await import('./ui.js')).uiSuite,
  },
  datapath: {
    description:
      'data plane (root): iperf3 + connect rate over VXLAN-GBP, no PEP / conntrack only / vnp with no policy, 10…100k entries / linear list; delta apply',
    load: async () => (await import('./datapath.js')).datapathSuite,
  },
  'datapath-e2e': {
    description:
      'data plane (root): only the end-to-end figure — tag change through the API → enforced in a real agent host’s kernel, with a per-stage breakdown',
    load: async () => (await import('./datapath-e2e-suite.js')).datapathEndToEndSuite,
  },
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
  // datapath-e2e is a part of datapath, run alone only when named.
  const names =
    positionals.length > 0 ? positionals : Object.keys(SUITES).filter((n) => n !== 'datapath-e2e');
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
  const opts = {
    quick: values.quick,
    exhaustive: values.exhaustive,
    log: (l: string) => console.log(l),
  };
  for (const name of names) {
    console.log(`\n== ${name}`);
    try {
      await runSuite(name, machine, opts, busy);
    } catch (e) {
      // One broken suite must not hide the others' results.
      console.error(`\n!!! suite ${name} failed:`, e);
      process.exitCode = 1;
    }
  }
}

async function runSuite(
  name: string,
  machine: MachineInfo,
  opts: RunOptions,
  busy: string | undefined,
): Promise<void> {
  const suite = await SUITES[name]!.load();
  const out = await suite.run(opts);
  console.log(`\n${out.report}`);
  if (busy) console.warn(`\n${busy}`);
  console.log(`\nresults: ${save(name, machine, out.json)}`);
  if (!out.ok) {
    console.error(`\n!!! ${name}: the suite reports a failed check — see the report above`);
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (e) {
  // A usage mistake gets one line; anything else is a bug and keeps its stack.
  console.error(e instanceof UsageError ? `bench: ${e.message}` : e);
  process.exitCode = 2;
}
