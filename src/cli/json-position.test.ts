import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, lineColumn } from './json-position.js';

describe('jsonSyntaxError', () => {
  it.each([
    ['{"a": }', 6, 'expected a value'],
    ['{"a": 1,}', 8, 'expected a "key"'],
    ['[1, 2', 5, 'unexpected end'],
    ['{"a" 1}', 5, 'expected ":"'],
    ['"abc', 4, 'unterminated string'],
    ['{"a": 1} x', 9, 'after the value'],
    ['{a: 1}', 1, 'expected a "key"'],
    ['[01]', 2, 'expected "," or "]"'],
  ])('%s fails at %i', (text, offset, msg) => {
    const e = jsonSyntaxError(text);
    expect(e?.offset).toBe(offset);
    expect(e?.message).toContain(msg);
  });

  it('accepts exactly what JSON.parse accepts (on JSON-ish strings)', () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.json().map((s) => s.slice(0, Math.max(0, s.length - 1))),
      fc.tuple(fc.json(), fc.constantFrom(',', '}', ']', ':', ' x', '"')).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(jsonSyntaxError(text) === undefined).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('lineColumn', () => {
  it('is 1-based', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, col: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, col: 2 });
  });
});
