/**
 * Rendering of an apply's result: per resource created / replaced / deleted /
 * unchanged, a field-level diff for replaced ones, then the tests' outcomes.
 */
import type { ApplyResult, DiffEntry, TestOutcome } from '../client/api-types.js';

/** One field that differs between two versions of a resource. */
export interface FieldChange {
  op: '+' | '-' | '~';
  path: string;
  before?: unknown;
  after?: unknown;
}

const META = new Set(['kind', 'name', 'revision', 'createdAt', 'updatedAt']);

/**
 * The fields that differ, depth-first, in key order; arrays compared by index.
 *
 * @example
 *   fieldDiff({ priority: 1, tags: { a: 1 } }, { priority: 2, tags: { a: 1, b: true } })
 *   // → [{ op: '~', path: 'priority', before: 1, after: 2 }, { op: '+', path: 'tags.b', after: true }]
 */
export function fieldDiff(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (deepEqual(before, after)) return [];
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys
      .filter((k) => path !== '' || !META.has(k))
      .flatMap((k) => {
        const p = joinPath(path, k);
        if (!(k in after) || after[k] === undefined)
          return before[k] === undefined ? [] : [{ op: '-' as const, path: p, before: before[k] }];
        if (!(k in before) || before[k] === undefined)
          return [{ op: '+' as const, path: p, after: after[k] }];
        return fieldDiff(before[k], after[k], p);
      });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: FieldChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= after.length) out.push({ op: '-', path: p, before: before[i] });
      else if (i >= before.length) out.push({ op: '+', path: p, after: after[i] });
      else out.push(...fieldDiff(before[i], after[i], p));
    }
    return out;
  }
  return [{ op: '~', path: path === '' ? '(value)' : path, before, after }];
}

function joinPath(path: string, key: string): string {
  const seg = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (path === '') return seg;
  return /^[A-Za-z_]/.test(seg) ? `${path}.${seg}` : `${path}[${seg}]`;
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'undefined');

/** One field change as a line: `~ priority: 100 → 200`. */
export function formatFieldChange(c: FieldChange): string {
  if (c.op === '+') return `+ ${c.path}: ${show(c.after)}`;
  if (c.op === '-') return `- ${c.path}: ${show(c.before)}`;
  return `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`;
}

const OP_WORD: Record<DiffEntry['op'], string> = {
  create: 'created',
  replace: 'replaced',
  delete: 'deleted',
  unchanged: 'unchanged',
};

/** Did a test pass? Servers may say `passed`, `ok`, or only `expect`/`verdict`. */
export function testPassed(outcome: TestOutcome): boolean {
  if (typeof outcome.passed === 'boolean') return outcome.passed;
  if (typeof outcome.ok === 'boolean') return outcome.ok;
  const got = outcome.got ?? outcome.verdict ?? outcome.actual;
  return got !== undefined && got === outcome.expect;
}

function flowText(outcome: TestOutcome): string {
  if (outcome.src === undefined || outcome.dst === undefined) return '';
  const proto = outcome.proto ?? outcome.protocol;
  const port = proto !== undefined && outcome.port !== undefined ? `/${outcome.port}` : '';
  return ` (${outcome.src} → ${outcome.dst}${proto !== undefined ? ' ' + proto + port : ''})`;
}

/** Test outcomes, one per line: `PASS name (a → b tcp/80): allow`. */
export function formatTests(tests: readonly TestOutcome[]): string {
  return tests
    .map((outcome) => {
      const ok = testPassed(outcome);
      const got = outcome.got ?? outcome.verdict ?? outcome.actual;
      const why = outcome.reason ?? outcome.message;
      const result = ok
        ? `${got ?? outcome.expect ?? ''}`
        : `expected ${outcome.expect ?? '?'}, got ${got ?? '?'}`;
      return `${ok ? 'PASS' : 'FAIL'}  ${outcome.name}${flowText(outcome)}: ${result}${why ? ` — ${why}` : ''}`;
    })
    .map((l) => l + '\n')
    .join('');
}

/**
 * The whole apply result for people. Unchanged resources are counted, not listed,
 * unless `verbose`.
 *
 * @example
 *   formatApplyResult({ dryRun: true, diff: [{ op: 'create', kind: 'Subnet', name: 'a' }], tests: [] })
 *   // 'created    Subnet/a\n\ndry run: 1 created, 0 replaced, 0 deleted, 0 unchanged; nothing was changed\n'
 */
export function formatApplyResult(result: ApplyResult, opts: { verbose?: boolean } = {}): string {
  const counts = { create: 0, replace: 0, delete: 0, unchanged: 0 };
  for (const e of result.diff ?? []) counts[e.op] = (counts[e.op] ?? 0) + 1;
  let out = formatDiffEntries(result.diff ?? [], opts);
  const tests = result.tests ?? [];
  if (tests.length > 0) out += (out ? '\n' : '') + 'tests:\n' + indent(formatTests(tests), '  ');
  const passed = tests.filter(testPassed).length;
  const summary =
    `${counts.create} created, ${counts.replace} replaced, ${counts.delete} deleted, ${counts.unchanged} unchanged` +
    (tests.length > 0 ? `; tests ${passed}/${tests.length} passed` : '');
  const tail = result.dryRun
    ? `dry run: ${summary}; nothing was changed`
    : `applied at revision ${result.revision ?? '?'}: ${summary}`;
  return out + (out ? '\n' : '') + tail + '\n';
}

/**
 * Resources that differ, one line each (`replaced   Policy/db-in`), with the
 * field-level changes of replaced ones under it; unchanged ones only if `verbose`.
 * Shared by apply --dry-run, diff and rollback.
 *
 * @example
 *   formatDiffEntries([{ op: 'replace', kind: 'Policy', name: 'p', before: { priority: 1 }, after: { priority: 2 } }])
 *   // 'replaced   Policy/p\n             ~ priority: 1 → 2\n'
 */
export function formatDiffEntries(
  entries: readonly DiffEntry[],
  opts: { verbose?: boolean } = {},
): string {
  const lines: string[] = [];
  for (const e of entries) {
    if (e.op === 'unchanged' && !opts.verbose) continue;
    lines.push(`${OP_WORD[e.op].padEnd(10)} ${e.kind}/${e.name}`);
    if (e.op === 'replace') {
      for (const c of fieldDiff(e.before ?? {}, e.after ?? {}))
        lines.push(`             ${formatFieldChange(c)}`);
    }
  }
  return lines.map((l) => l + '\n').join('');
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}
