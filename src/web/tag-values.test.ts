import { describe, expect, it } from 'vitest';
import { patchOf, rowOf, valueOf, type TagRow } from './tag-values.js';

describe('typed tag values', () => {
  it.each([
    ['s', 'web', { key: 's', type: 'string', text: 'web' }],
    ['i', 2, { key: 'i', type: 'integer', text: '2' }],
    ['b', false, { key: 'b', type: 'boolean', text: 'false' }],
    ['j', { team: 'pay' }, { key: 'j', type: 'json', text: '{"team":"pay"}' }],
    ['f', 0.5, { key: 'f', type: 'json', text: '0.5' }],
  ])('%s: %j is edited as %j', (key, value, row) => {
    expect(rowOf(key, value)).toEqual(row);
    expect(valueOf(row as TagRow)).toEqual({ value });
  });

  it.each([
    [{ key: 'i', type: 'integer', text: '2.5' }, /i: an integer/],
    [{ key: 'i', type: 'integer', text: '9007199254740993' }, /i: an integer/],
    [{ key: 'b', type: 'boolean', text: 'yes' }, /b: true or false/],
    [{ key: 'j', type: 'json', text: '{x' }, /j: JSON/],
  ])('%j is refused', (row, message) => {
    const v = valueOf(row as TagRow);
    expect('error' in v && v.error).toMatch(message);
  });

  it('a patch sets what changed and removes what is gone', () => {
    const rows: TagRow[] = [
      { key: 'a', type: 'integer', text: '1' },
      { key: 'c', type: 'string', text: 'new' },
    ];
    expect(patchOf({ a: 1, b: true }, rows)).toEqual({ set: { c: 'new' }, remove: ['b'] });
    expect(patchOf({}, [...rows, rows[0]!])).toEqual({ error: 'a: the key appears twice' });
  });
});
