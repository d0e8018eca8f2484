/**
 * Turns core results into the ratios and the targets table of design.md §6, and
 * prints them. Pure apart from the returned text.
 */
import type { CompileChildResult } from './compile-child.js';
import type { CoreResults, VerdictRow } from './core.js';
import { formatMiB, formatMs, formatNs, formatRate, formatRatio, formatTable } from './table.js';

/** A named ratio (higher = vnp better unless stated). */
export interface Ratio {
  what: string;
  value: number;
}

/** One line of the targets table. `met` is undefined when not measured. */
export interface TargetRow {
  what: string;
  target: string;
  measured: string;
  met: boolean | undefined;
  /** Set when the run was not at the target's scale (quick mode). */
  note?: string;
}

const GIB = 1024 ** 3;

function rowsAt(r: CoreResults, policies: number): VerdictRow[] {
  return r.verdicts.filter((v) => v.policies === policies);
}

/** vnp's fastest verdict call at this size. */
function bestVnp(r: CoreResults, policies: number): VerdictRow | undefined {
  return rowsAt(r, policies)
    .filter((v) => v.vnp)
    .sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
}

function baseline(r: CoreResults, policies: number, prefix: string): VerdictRow | undefined {
  return rowsAt(r, policies).find((v) => v.judge.startsWith(prefix) && v.skipped === undefined);
}

/** The size the "at 1,000 policies" ratios use: 1,000 when measured, else the middle size. */
function ratioSize(r: CoreResults): number {
  const sizes = r.options.sizes;
  return sizes.includes(1000) ? 1000 : sizes[Math.floor(sizes.length / 2)]!;
}

/**
 * The ratios the report prints.
 *
 * @example
 *   ratiosOf(results) // [{ what: 'vnp / Cedar @1000 policies', value: 2400 }, ...]
 */
export function ratiosOf(r: CoreResults): Ratio[] {
  const out: Ratio[] = [];
  const at = ratioSize(r);
  const v = bestVnp(r, at);
  for (const prefix of ['Cedar', 'Casbin']) {
    const b = baseline(r, at, prefix);
    if (v && b)
      out.push({ what: `vnp / ${prefix} @${at} policies`, value: v.opsPerSec / b.opsPerSec });
  }
  const sizes = r.options.sizes;
  const lo = bestVnp(r, sizes[0]!);
  const hi = bestVnp(r, sizes[sizes.length - 1]!);
  if (lo && hi)
    out.push({
      what: `vnp@${lo.policies} / vnp@${hi.policies} (slowdown)`,
      value: lo.opsPerSec / hi.opsPerSec,
    });
  for (const size of sizes) {
    const vs = bestVnp(r, size);
    for (const prefix of ['reference', 'seed']) {
      const b = baseline(r, size, prefix);
      if (vs && b)
        out.push({ what: `vnp / ${prefix} @${size} policies`, value: vs.opsPerSec / b.opsPerSec });
    }
  }
  return out;
}

function isFullScale(r: CoreResults): { verdicts: boolean; compile: boolean } {
  const s = r.options.sizes;
  return {
    verdicts: s.includes(10) && s.includes(1000) && s.includes(10_000),
    compile:
      (r.options.compile?.records ?? 0) >= 100_000 && (r.options.compile?.policies ?? 0) >= 10_000,
  };
}

function verdictTargets(r: CoreResults, ratios: Ratio[]): TargetRow[] {
  const full = isFullScale(r).verdicts ? undefined : 'quick run: not at the target scale';
  const bests = r.options.sizes
    .map((s) => bestVnp(r, s))
    .filter((v): v is VerdictRow => v !== undefined);
  const worst = bests.sort((a, b) => a.opsPerSec - b.opsPerSec)[0];
  const ratio = (prefix: string): Ratio | undefined =>
    ratios.find((x) => x.what.startsWith(prefix));
  const rows: TargetRow[] = [
    {
      what: 'flow verdicts, one core (worst size)',
      target: '≥ 5 M/s',
      measured: worst ? `${formatRate(worst.opsPerSec)}/s @${worst.policies}` : 'n/a',
      met: worst ? worst.opsPerSec >= 5e6 : undefined,
    },
  ];
  for (const prefix of ['vnp / Cedar', 'vnp / Casbin']) {
    const x = ratio(prefix);
    rows.push({
      what: x?.what ?? prefix,
      target: '≥ 1000×',
      measured: x ? formatRatio(x.value) : 'n/a',
      met: x ? x.value >= 1000 : undefined,
    });
  }
  const slow = ratio('vnp@');
  rows.push({
    what: slow?.what ?? 'slowdown',
    target: '≤ 1.5×',
    measured: slow ? formatRatio(slow.value) : 'n/a',
    met: slow ? slow.value <= 1.5 : undefined,
  });
  return rows.map((row) => (full ? { ...row, note: full } : row));
}

function compileTargets(r: CoreResults): TargetRow[] {
  const c = r.compile;
  const note = isFullScale(r).compile ? undefined : 'quick run: not at the target scale';
  const scale = c ? ` (${c.records} records, ${c.policies} policies)` : '';
  // A failed child is a miss, not an absence: the engine could not do it.
  const row = (
    what: string,
    target: string,
    value: (c: CompileChildResult) => [string, boolean],
  ): TargetRow => {
    const [measured, met] = c
      ? value(c)
      : [r.compileError ? 'child failed' : 'n/a', r.compileError ? false : undefined];
    return { what, target, measured, met, ...(note ? { note } : {}) };
  };
  return [
    row(`full compile time${scale}`, '≤ 2 s', (x) => [formatMs(x.loadMs), x.loadMs <= 2000]),
    row('full compile peak RSS (whole process)', '≤ 1 GiB', (x) => [
      formatMiB(x.peakRss),
      x.peakRss <= GIB,
    ]),
    row('one tag change → deltas ready (p99)', '≤ 5 ms', (x) => [
      formatMs(x.applyP99Ms),
      x.applyP99Ms <= 5,
    ]),
  ];
}

/**
 * The targets of design.md §6 this suite measures, met or not.
 *
 * @example
 *   targetsOf(results, ratiosOf(results)).filter((t) => t.met === false)
 */
export function targetsOf(r: CoreResults, ratios: Ratio[]): TargetRow[] {
  const rows = [...verdictTargets(r, ratios), ...compileTargets(r)];
  const bad = r.verdicts.filter((v) => v.disagreements > 0);
  if (bad.length > 0) {
    rows.unshift({
      what: '!!! judges agree with the reference',
      target: '0 disagreements',
      measured: bad.map((v) => `${v.judge}@${v.policies}: ${v.disagreements}`).join('; '),
      met: false,
    });
  }
  return rows;
}

function verdictNote(v: VerdictRow): string {
  const notes: string[] = [];
  if (v.disagreements > 0) notes.push('!!! DISAGREES with the reference');
  if (v.firstPassMs !== undefined)
    notes.push(`first pass (cold tables) ${formatMs(v.firstPassMs)}`);
  notes.push(`median ${formatRate(v.medianOpsPerSec)}/s`);
  return notes.join('; ');
}

function verdictTable(r: CoreResults): string {
  const rows = r.verdicts.map((v) =>
    v.skipped !== undefined
      ? [String(v.policies), v.judge, 'skipped', '', '', '', v.skipped]
      : [
          String(v.policies),
          v.judge,
          formatRate(v.opsPerSec),
          formatNs(1e9 / v.opsPerSec),
          `${v.compared - v.disagreements}/${v.compared}`,
          formatMs(v.buildMs),
          verdictNote(v),
        ],
  );
  return formatTable(
    ['policies', 'judge', 'verdicts/s', 'per verdict', 'agree', 'build', 'notes'],
    rows,
  );
}

function compileTable(r: CoreResults): string {
  const c = r.compile;
  if (r.compileError !== undefined) return `!!! compile child failed: ${r.compileError}`;
  if (!c) return '(compile suite skipped)';
  const stats = Object.entries(c.stats)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return formatTable(
    ['measure', 'value'],
    [
      ['documents', String(c.documents)],
      ['engine.load', formatMs(c.loadMs)],
      ['RSS before load (documents generated)', formatMiB(c.rssBeforeLoad)],
      ['RSS after load', formatMiB(c.rssAfterLoad)],
      ['peak RSS through load', formatMiB(c.peakRss)],
      ['engine stats after load', stats],
      ["first PEP snapshot after load (hostState('h0'))", formatMs(c.firstSnapshotMs)],
      ['compiled sides when the changes ran', String(c.statsAtChanges['sides'] ?? 'n/a')],
      [`tag change → delta, p50 (${c.changes} changes)`, formatMs(c.applyP50Ms)],
      ['tag change → delta, p99', formatMs(c.applyP99Ms)],
      ['tag change → delta, max', formatMs(c.applyMaxMs)],
      ['sides touched per change (mean)', c.meanSides.toFixed(1)],
    ],
  );
}

/**
 * The whole human-readable report of a core run.
 *
 * @example
 *   console.log(formatCoreReport(results));
 */
export function formatCoreReport(r: CoreResults): string {
  const ratios = ratiosOf(r);
  const targets = targetsOf(r, ratios);
  const met = (m: boolean | undefined): string =>
    m === undefined ? 'not measured' : m ? 'met' : 'NOT MET';
  return [
    `Flow verdicts (${r.options.records} records, ${r.options.flows} flows cycled)`,
    verdictTable(r),
    '',
    'Ratios',
    formatTable(
      ['ratio', 'value'],
      ratios.map((x) => [x.what, formatRatio(x.value)]),
    ),
    '',
    'Full compile and tag change (fresh process)',
    compileTable(r),
    '',
    'Targets (design.md §6)',
    formatTable(
      ['what', 'target', 'measured', 'result'],
      targets.map((t) => [
        t.what,
        t.target,
        t.measured,
        met(t.met) + (t.note ? ` (${t.note})` : ''),
      ]),
    ),
  ].join('\n');
}
