import { describe, expect, it } from 'vitest';
import {
  deepEqual,
  fieldDiff,
  formatApplyResult,
  formatFieldChange,
  formatTests,
  testPassed,
} from './diff-format.js';

describe('fieldDiff', () => {
  it('reports changed, added and removed fields with paths, ignoring metadata', () => {
    const before = {
      kind: 'Interface',
      name: 'w',
      revision: 3,
      subnet: 's',
      tags: { env: 'dev', a: 1 },
      ips: ['10.0.0.1'],
    };
    const after = {
      kind: 'Interface',
      name: 'w',
      revision: 9,
      subnet: 's',
      tags: { env: 'prod', b: true },
      ips: ['10.0.0.1', '10.0.0.2'],
    };
    expect(fieldDiff(before, after)).toEqual([
      { op: '+', path: 'ips[1]', after: '10.0.0.2' },
      { op: '-', path: 'tags.a', before: 1 },
      { op: '+', path: 'tags.b', after: true },
      { op: '~', path: 'tags.env', before: 'dev', after: 'prod' },
    ]);
  });

  it('quotes keys that are not identifiers', () => {
    const d = fieldDiff(
      { tags: { 'app.kubernetes.io/name': 'a' } },
      { tags: { 'app.kubernetes.io/name': 'b' } },
    );
    expect(d[0]!.path).toBe('tags["app.kubernetes.io/name"]');
  });

  it('treats a type change as one replacement', () => {
    expect(fieldDiff({ tier: '2' }, { tier: 2 })).toEqual([
      { op: '~', path: 'tier', before: '2', after: 2 },
    ]);
  });

  it('is empty for equal documents whatever the key order', () => {
    expect(fieldDiff({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
    expect(deepEqual({ a: undefined, b: 1 }, { b: 1 })).toBe(true);
  });

  it('formats each kind of change on one line', () => {
    expect(formatFieldChange({ op: '~', path: 'priority', before: 1, after: 2 })).toBe(
      '~ priority: 1 → 2',
    );
    expect(formatFieldChange({ op: '+', path: 'tags.x', after: 'y' })).toBe('+ tags.x: "y"');
    expect(formatFieldChange({ op: '-', path: 'mode', before: 'audit' })).toBe('- mode: "audit"');
  });
});

describe('tests', () => {
  it('reads passed/ok/got/verdict', () => {
    expect(testPassed({ name: 't', passed: true })).toBe(true);
    expect(testPassed({ name: 't', ok: false })).toBe(false);
    expect(testPassed({ name: 't', expect: 'allow', got: 'allow' })).toBe(true);
    expect(testPassed({ name: 't', expect: 'allow', verdict: 'deny' })).toBe(false);
    expect(testPassed({ name: 't', expect: 'allow' })).toBe(false);
  });

  it('prints PASS/FAIL with the flow and the reason', () => {
    const out = formatTests([
      {
        name: 'a',
        src: 'w',
        dst: 'd',
        proto: 'tcp',
        port: 5432,
        expect: 'deny',
        got: 'deny',
        passed: true,
        reason: 'denied',
      },
      { name: 'b', src: 'w', dst: 'd', expect: 'allow', got: 'deny', passed: false },
    ]);
    expect(out).toBe(
      'PASS  a (w → d tcp/5432): deny — denied\nFAIL  b (w → d): expected allow, got deny\n',
    );
  });
});

describe('formatApplyResult', () => {
  const diff = [
    { op: 'create' as const, kind: 'Subnet' as const, name: 'a' },
    { op: 'unchanged' as const, kind: 'Subnet' as const, name: 'b' },
    {
      op: 'replace' as const,
      kind: 'Policy' as const,
      name: 'p',
      before: {
        kind: 'Policy',
        name: 'p',
        priority: 1,
        appliesTo: 'all()',
        ingress: [],
        egress: [],
        routes: [],
        mode: 'enforce',
      },
      after: {
        kind: 'Policy',
        name: 'p',
        priority: 2,
        appliesTo: 'all()',
        ingress: [],
        egress: [],
        routes: [],
        mode: 'enforce',
      },
    },
  ];

  it('lists changes with field diffs and counts unchanged ones', () => {
    const out = formatApplyResult({ dryRun: true, diff: diff as never, tests: [] });
    expect(out).toBe(
      'created    Subnet/a\n' +
        'replaced   Policy/p\n' +
        '             ~ priority: 1 → 2\n' +
        '\n' +
        'dry run: 1 created, 1 replaced, 0 deleted, 1 unchanged; nothing was changed\n',
    );
  });

  it('lists unchanged ones when verbose, and the revision when applied', () => {
    const out = formatApplyResult(
      {
        revision: 7,
        diff: diff as never,
        tests: [{ name: 't', expect: 'allow', got: 'allow', passed: true }],
      },
      { verbose: true },
    );
    expect(out).toContain('unchanged  Subnet/b');
    expect(out).toContain('tests:\n  PASS  t: allow\n');
    expect(out).toMatch(
      /applied at revision 7: 1 created, 1 replaced, 0 deleted, 1 unchanged; tests 1\/1 passed\n$/,
    );
  });
});
