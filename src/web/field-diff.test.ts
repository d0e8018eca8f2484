import { describe, expect, it } from 'vitest';
import { fieldDiff } from './field-diff.js';

describe('field-level diff', () => {
  it.each([
    [{ a: 1 }, { a: 1 }, []],
    [
      { tags: { a: 1 } },
      { tags: { a: 2, b: true } },
      [
        { path: 'tags.a', before: 1, after: 2 },
        { path: 'tags.b', after: true },
      ],
    ],
    [
      { ips: ['1', '2'] },
      { ips: ['2', '1'] },
      [{ path: 'ips', before: ['1', '2'], after: ['2', '1'] }],
    ],
    [{ mode: 'audit', revision: 3 }, { revision: 4 }, [{ path: 'mode', before: 'audit' }]],
    [undefined, { name: 'x' }, [{ path: '(document)', after: { name: 'x' } }]],
  ])('%j → %j', (before, after, changes) => {
    expect(fieldDiff(before, after)).toEqual(changes);
  });
});
