/** The shared JSON limits: depth measured on the text (strings skipped), unstorable strings named. */
import { describe, expect, it } from 'vitest';
import { jsonDepthError, unstorable, unstorableStringError } from './json-guard.js';

describe('jsonDepthError', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonDepthError('[[1]]', 'body', 2)).toBeUndefined();
    expect(jsonDepthError('[[[1]]]', 'body', 2)?.details).toMatchObject({ field: 'body' });
    expect(jsonDepthError('{"a":"[[[[\\"[["}', 'body', 1)).toBeUndefined();
  });
  it('scans a million levels without recursion', () => {
    const deep = '['.repeat(1_000_000);
    expect(jsonDepthError(deep)?.message).toMatch(/nested 65 levels deep at offset 64/);
  });
});

describe('unstorableStringError', () => {
  it('accepts paired surrogates and ordinary text', () => {
    expect(unstorable('😀 ok')).toBeUndefined();
    expect(unstorableStringError({ a: ['x', { b: '😀' }] })).toBeUndefined();
  });
  it('names the first value or key holding NUL or a lone surrogate', () => {
    expect(unstorableStringError({ a: [1, { b: 'x\u0000' }] })?.details?.field).toBe('a[1].b');
    expect(unstorableStringError({ 'k\ud800': 1 })?.details?.field).toBe('["k\\ud800"]');
    expect(unstorableStringError(['\udc00'], 'documents')?.details?.field).toBe('documents[0]');
  });
  it('walks 100,000 levels without recursion', () => {
    let v: unknown = 'a\u0000';
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(unstorableStringError(v)?.details?.field).toMatch(/^(\[0\]){100000}$/);
  });
});
