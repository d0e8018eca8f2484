import { describe, expect, it } from 'vitest';
import { canonicalTagsJson } from '../../model/tags.js';
import type { Tags } from '../../model/types.js';
import { SelectorCache } from './selector-cache.js';
import { TagKeyInterner } from './tag-key-interner.js';

/** Deterministic pseudo-random tag sets: scalars of every type, objects, arrays, key orders. */
function randomTags(seed: number): Tags {
  let s = seed;
  const rnd = (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
  const values = [
    'web',
    'db',
    '1',
    1,
    0,
    true,
    false,
    'true',
    { team: 'pay', n: 1 },
    { n: 1, team: 'pay' },
    ['a', { b: 2, a: 1 }],
    'q"uote\\',
    'é\u0001',
  ];
  const keys = ['app', 'env', 'tier', 'owner', 'Zone', 'a.b', 'pci'];
  const out: Tags = {};
  for (const k of keys) if (rnd(3) > 0) out[k] = values[rnd(values.length)]!;
  // Insertion order varies with the seed: the key must not depend on it.
  return Object.fromEntries(Object.entries(out).sort(() => rnd(3) - 1)) as Tags;
}

describe('TagKeyInterner', () => {
  it('gives canonicalTagsJson of the projected tags, the same string object for equal sets', () => {
    const keys = new TagKeyInterner();
    const seen = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const tags = randomTags(i);
      const relevant = Object.keys(tags)
        .filter((k) => k !== 'tier')
        .sort();
      const picked: Tags = {};
      for (const k of relevant) picked[k] = tags[k]!;
      const text = keys.keyOf(tags, relevant);
      expect(text).toBe(canonicalTagsJson(picked));
      const earlier = seen.get(text);
      if (earlier !== undefined) expect(Object.is(earlier, text)).toBe(true);
      seen.set(text, text);
    }
    expect(seen.size).toBeGreaterThan(100);
  });

  it('stays right when its node bound makes it start over', () => {
    const keys = new TagKeyInterner(50);
    for (let i = 0; i < 1000; i++) {
      const tags = { app: `a${i % 300}`, env: i % 2 === 0 ? 'prod' : 'dev' };
      expect(keys.keyOf(tags, ['app', 'env'])).toBe(canonicalTagsJson(tags));
    }
  });

  it('backs SelectorCache.projectedKey: the key of project(tags), only relevant keys', () => {
    const cache = new SelectorCache();
    cache.retain('owner.team == "pay" || env == "prod"');
    cache.retain('has(Zone)');
    for (let i = 0; i < 500; i++) {
      const tags = randomTags(i * 7 + 1);
      expect(cache.projectedKey(tags)).toBe(canonicalTagsJson(cache.project(tags)));
    }
    expect(cache.projectedKey({ app: 'web', tier: 1 })).toBe('{}');
  });
});
