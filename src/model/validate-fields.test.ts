import { describe, expect, it } from 'vitest';
import {
  defineField,
  indexField,
  isPlainObject,
  joinField,
  shownField,
} from './validate-fields.js';

describe('field paths', () => {
  const cases: [string, string, string][] = [
    ['', 'name', 'name'],
    ['egress[2].to', 'cidr', 'egress[2].to.cidr'],
    ['tags', 'app.kubernetes.io/name', 'tags["app.kubernetes.io/name"]'],
    ['tags', 'a-b', 'tags["a-b"]'],
    ['', 'a b', '["a b"]'],
    ['tags', 'x"y', 'tags["x\\"y"]'],
  ];
  it.each(cases)('joinField(%j, %j) = %s', (base, key, out) =>
    expect(joinField(base, key)).toBe(out),
  );
  it('indexField and shownField', () => {
    expect(indexField('ips', 1)).toBe('ips[1]');
    expect(indexField(joinField('egress', 'x'), 0)).toBe('egress.x[0]');
    expect(shownField('')).toBe('document');
    expect(shownField('ips[0]')).toBe('ips[0]');
  });
  it('isPlainObject', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject('x')).toBe(false);
  });
  it('defineField sets __proto__ as an own key', () => {
    const o: Record<string, unknown> = {};
    defineField(o, '__proto__', { x: 1 });
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });
});
