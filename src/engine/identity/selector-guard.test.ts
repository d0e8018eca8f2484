import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tags } from '../../model/types.js';
import { compileSelector, parseSelector } from '../../selector/index.js';
import { IdentityRegistry } from './identity-registry.js';
import { guardOf } from './selector-guard.js';

describe('guardOf', () => {
  it.each([
    ['env == "prod"', { kind: 'eq', key: 'env', value: 'prod' }],
    ['tier >= 2', { kind: 'key', key: 'tier' }],
    ['has(team)', { kind: 'key', key: 'team' }],
    ['all()', { kind: 'always' }],
    ['a == 1 || b == 2', { kind: 'always' }],
    [
      'tier >= 2 && env == "prod"',
      { kind: 'eq', key: 'env', value: 'prod', alternatives: [{ kind: 'key', key: 'tier' }] },
    ],
    [
      // The first eq is the index key; every other conjunct rides along.
      'src == "k8s" && ns == "a" && app == "b"',
      {
        kind: 'eq',
        key: 'src',
        value: 'k8s',
        alternatives: [
          { kind: 'eq', key: 'ns', value: 'a' },
          { kind: 'eq', key: 'app', value: 'b' },
        ],
      },
    ],
    ['!(a == 1) && all()', { kind: 'always' }],
  ])('%s', (text, guard) => {
    expect(guardOf(parseSelector(text))).toEqual(guard);
  });
});

describe('IdentityRegistry.candidates', () => {
  const registry = (tags: Tags[]): IdentityRegistry => {
    const r = new IdentityRegistry();
    tags.forEach((t, i) =>
      r.add({ id: 256 + i, key: JSON.stringify(t), tags: t, records: new Set(), partitions: [] }),
    );
    return r;
  };

  it('tests only the smallest alternative set', () => {
    const r = registry([
      ...Array.from({ length: 50 }, (_, i) => ({ src: 'k8s', app: `a${i}` })),
      { src: 'other', app: 'a1' },
    ]);
    const g = guardOf(parseSelector('src == "k8s" && app == "a1"'));
    expect([...r.candidates(g)].sort()).toEqual([257, 306]);
    expect([...r.candidates(guardOf(parseSelector('src == "k8s" && app == "zz"')))]).toEqual([]);
  });

  // The invariant the engine relies on: candidates ⊇ matches, whatever the alternatives.
  it('never leaves out a matching identity (property)', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const value = fc.oneof(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 2 }), fc.boolean());
    const literal = (v: string | number | boolean): string =>
      typeof v === 'string' ? JSON.stringify(v) : String(v);
    const conjunct = fc.oneof(
      fc.tuple(key, value).map(([k, v]) => `${k} == ${literal(v)}`),
      fc.tuple(key, value).map(([k, v]) => `${k} != ${literal(v)}`),
      key.map((k) => `has(${k})`),
      fc.tuple(key, value).map(([k, v]) => `!(${k} == ${literal(v)})`),
      fc.tuple(key, key).map(([k, l]) => `(${k} == 1 || ${l} == "x")`),
    );
    const selector = fc.array(conjunct, { minLength: 1, maxLength: 4 }).map((c) => c.join(' && '));
    const tags = fc.dictionary(key, value, { maxKeys: 3 });
    fc.assert(
      fc.property(selector, fc.array(tags, { minLength: 1, maxLength: 12 }), (text, all) => {
        const ast = parseSelector(text);
        const matches = compileSelector(ast);
        const r = registry(all);
        const candidates = new Set(r.candidates(guardOf(ast)));
        all.forEach((t, i) => {
          if (matches(t)) expect(candidates.has(256 + i)).toBe(true);
        });
      }),
      { numRuns: 500 },
    );
  });
});
