import { describe, expect, it } from 'vitest';
import { VnpError } from './errors.js';
import { canonicalTagsJson, parseTagAssignment, validateTagKey, validateTags } from './tags.js';

function errorOf(f: () => unknown): VnpError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VnpError);
    return e as VnpError;
  }
  throw new Error('no error thrown');
}

describe('validateTags', () => {
  it('accepts the contract example and returns a copy', () => {
    const input = { env: 'prod', tier: 2, pci: true, owner: { team: 'pay', cc: 41 } };
    const out = validateTags(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.owner).not.toBe(input.owner);
  });

  const goodKeys = ['a', 'A', '0', 'app.kubernetes.io/name', 'x:y', 'a-b_c', 'k'.repeat(127)];
  it.each(goodKeys)('accepts key %s', (k) => {
    expect(validateTagKey(k)).toBe(k);
    expect(validateTags({ [k]: 1 })).toEqual({ [k]: 1 });
  });

  const goodValues: unknown[] = [
    '',
    'x'.repeat(4096),
    0,
    -5,
    Number.MAX_SAFE_INTEGER,
    true,
    false,
    [],
    {},
    [1, 'a', null, 1.5, { x: [true] }],
    { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } }, // depth 7
    { a: { b: { c: { d: { e: { f: { g: {} } } } } } } }, // depth 8
  ];
  it.each(goodValues)('accepts value %j', (v) => {
    expect(validateTags({ k: v })).toEqual({ k: v });
  });

  const bad: [unknown, string, RegExp][] = [
    [null, 'tags', /expected an object/],
    [[], 'tags', /expected an object/],
    ['env=prod', 'tags', /expected an object/],
    [{ 'bad key': 1 }, 'tags["bad key"]', /invalid tag key "bad key"/],
    [{ _x: 1 }, 'tags._x', /invalid tag key/],
    [{ '-x': 1 }, 'tags["-x"]', /invalid tag key/],
    [{ ['k'.repeat(128)]: 1 }, `tags.${'k'.repeat(128)}`, /invalid tag key/],
    [{ 'a=b': 1 }, 'tags["a=b"]', /invalid tag key/],
    [{ tier: 2.5 }, 'tags.tier', /expected a safe integer .* found 2\.5/],
    [{ tier: 2 ** 53 }, 'tags.tier', /safe integer/],
    [{ tier: Number.NaN }, 'tags.tier', /safe integer/],
    [{ x: null }, 'tags.x', /null is allowed only inside a JSON/],
    [{ x: undefined }, 'tags.x', /expected a string/],
    [{ 'app.kubernetes.io/name': null }, 'tags["app.kubernetes.io/name"]', /null/],
    [{ x: 'x'.repeat(4097) }, 'tags.x', /at most 4096 bytes/],
    [{ x: 'é'.repeat(2049) }, 'tags.x', /at most 4096 bytes/],
    [{ x: { s: 'x'.repeat(4100) } }, 'tags.x', /at most 4096 bytes encoded/],
    [
      { x: { a: { b: { c: { d: { e: { f: { g: { h: {} } } } } } } } } },
      'tags.x.a.b.c.d.e.f.g.h',
      /at most 8 levels/,
    ],
    [{ x: [[[[[[[[[]]]]]]]]] }, 'tags.x[0][0][0][0][0][0][0][0]', /at most 8 levels/],
    [{ x: { n: Infinity } }, 'tags.x.n', /finite number/],
    [{ x: { d: new Date(0) } }, 'tags.x.d', /expected a JSON value/],
    [
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
      'tags',
      /at most 64 tags.*found 65/,
    ],
  ];
  it.each(bad)('rejects %j at %s', (tags, field, msg) => {
    const e = errorOf(() => validateTags(tags));
    expect(e.code).toBe('VNP_ERR_TAG_INVALID');
    expect(e.details?.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.message).toMatch(msg);
  });

  it('accepts exactly 64 tags', () => {
    const t = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(validateTags(t))).toHaveLength(64);
  });

  it('keeps __proto__ inside JSON as a plain key without touching prototypes', () => {
    const input = JSON.parse('{"x": {"__proto__": {"polluted": 1}}}') as unknown;
    const out = validateTags(input);
    const x = out.x as Record<string, unknown>;
    expect(Object.keys(x)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(x)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('uses the given base field', () => {
    expect(errorOf(() => validateTags({ x: 1.5 }, 'addTags')).details?.field).toBe('addTags.x');
  });
});

describe('parseTagAssignment', () => {
  const cases: [string, string, unknown][] = [
    ['env=prod', 'env', 'prod'],
    ['tier=2', 'tier', 2],
    ['tier=-2', 'tier', -2],
    ['zip=007', 'zip', '007'],
    ['pci=true', 'pci', true],
    ['pci=false', 'pci', false],
    ['owner={"team":"pay"}', 'owner', { team: 'pay' }],
    ['list=[1,2]', 'list', [1, 2]],
    ['name="007"', 'name', '007'],
    ['name="true"', 'name', 'true'],
    ["name='2'", 'name', '2'],
    ['empty=', 'empty', ''],
    ['eq=a=b', 'eq', 'a=b'],
    ['app.kubernetes.io/name=web', 'app.kubernetes.io/name', 'web'],
    ['ratio=1.5', 'ratio', '1.5'],
  ];
  it.each(cases)('%s', (text, key, value) => {
    expect(parseTagAssignment(text)).toEqual({ key, value });
  });

  const bad: [string, RegExp][] = [
    ['novalue', /expected key=value/],
    ['=x', /invalid tag key/],
    ['bad key=1', /invalid tag key/],
    ['owner={team}', /must be valid JSON/],
    ['n="unterminated', /must be valid JSON/],
    ['big=9007199254740992', /out of the safe range/],
  ];
  it.each(bad)('rejects %s', (text, msg) => {
    const e = errorOf(() => parseTagAssignment(text));
    expect(e.code).toBe('VNP_ERR_TAG_INVALID');
    expect(e.message).toMatch(msg);
  });
  it('"null" is a plain string, JSON null is refused', () => {
    expect(parseTagAssignment('x=null')).toEqual({ key: 'x', value: 'null' });
    expect(errorOf(() => parseTagAssignment('x={"a":1.5e400}')).code).toBe('VNP_ERR_TAG_INVALID');
  });
});

describe('canonicalTagsJson', () => {
  it('sorts keys at every level, keeps array order', () => {
    expect(canonicalTagsJson({ b: 1, a: { d: 1, c: [{ z: 1, y: 2 }] } })).toBe(
      '{"a":{"c":[{"y":2,"z":1}],"d":1},"b":1}',
    );
  });
  it('is equal for equal tags in any key order', () => {
    expect(canonicalTagsJson({ x: 1, y: 'a' })).toBe(canonicalTagsJson({ y: 'a', x: 1 }));
    expect(canonicalTagsJson({ x: 1 })).not.toBe(canonicalTagsJson({ x: '1' }));
  });
  it('round-trips through JSON.parse', () => {
    const t = { 'app.kubernetes.io/name': 'w"eb', n: -1, o: { k: null } };
    expect(JSON.parse(canonicalTagsJson(t))).toEqual(t);
  });
});

describe('validateTagKey', () => {
  it('names the given field verbatim', () => {
    const e = errorOf(() => validateTagKey('bad key', 'remove[0]'));
    expect(e.code).toBe('VNP_ERR_TAG_INVALID');
    expect(e.details?.field).toBe('remove[0]');
    expect(e.message).toMatch(/^remove\[0\]: invalid tag key "bad key"/);
    expect(errorOf(() => validateTagKey(5)).details?.field).toBe('key');
  });
});
