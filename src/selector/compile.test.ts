import { describe, expect, it } from 'vitest';
import type { Tags } from '../model/types.js';
import { compileSelector, compileSelectorCached, parseSelector } from './index.js';

const tags: Tags = {
  env: 'prod',
  tier: 2,
  pci: true,
  zone: 'b',
  owner: {
    team: 'pay',
    cc: 41,
    ratio: 0.5,
    big: 2 ** 60,
    nothing: null,
    list: [1, 2],
    sub: { x: 'y' },
  },
  list: ['a', 'b'],
  'app.kubernetes.io/name': 'web',
  empty: '',
  neg: -5,
};

const run = (sel: string, t: Tags = tags): boolean => compileSelector(parseSelector(sel))(t);

describe('compileSelector: every semantic rule', () => {
  const cases: [selector: string, expected: boolean, why: string][] = [
    ['all()', true, 'all() matches every record'],
    ['env == "prod"', true, 'string equality'],
    ['env == "dev"', false, 'string inequality'],
    ['env != "dev"', true, '!= on a present string of another value'],
    ['env != "prod"', false, '!= on an equal string'],
    // missing paths: false for every operator, != included
    ['missing == "x"', false, 'missing path: =='],
    ['missing != "x"', false, 'missing path: != is false too'],
    ['missing < 1', false, 'missing path: <'],
    ['missing >= 1', false, 'missing path: >='],
    ['missing in {"x"}', false, 'missing path: in'],
    ['missing not in {"x"}', false, 'missing path: not in is false too'],
    ['!has(missing)', true, 'has() is the way to ask for absence'],
    // type mismatches: false for every operator
    ['tier == "2"', false, 'integer tag vs string literal'],
    ['tier != "2"', false, 'type mismatch: != is false'],
    ['env == 1', false, 'string tag vs integer literal'],
    ['env != 1', false, 'type mismatch: !='],
    ['env > 1', false, 'type mismatch: >'],
    ['pci == 1', false, 'boolean tag vs integer'],
    ['pci != "true"', false, 'boolean tag vs string'],
    ['tier == true', false, 'integer vs boolean'],
    ['tier != true', false, 'integer vs boolean: !='],
    ['tier in {"2"}', false, 'in: no literal of the value type'],
    ['tier not in {"2"}', false, 'not in: no literal of the value type'],
    // integers
    ['tier == 2', true, 'integer equality'],
    ['tier != 3', true, 'integer !='],
    ['tier < 3', true, '<'],
    ['tier < 2', false, '< strict'],
    ['tier <= 2', true, '<='],
    ['tier > 1', true, '>'],
    ['tier > 2', false, '> strict'],
    ['tier >= 2', true, '>='],
    ['neg < -4', true, 'negative integers order numerically'],
    ['neg > -6', true, 'negative integers'],
    ['tier < 10', true, 'numeric, not lexicographic order'],
    // strings order by UTF-16 code units
    ['zone < "c"', true, 'string <'],
    ['zone > "a"', true, 'string >'],
    ['zone >= "b"', true, 'string >='],
    ['zone <= "B"', false, 'uppercase sorts before lowercase'],
    ['env < "prod0"', true, 'prefix sorts first'],
    ['empty < "a"', true, 'empty string is smallest'],
    ['empty == ""', true, 'empty string equality'],
    // booleans
    ['pci == true', true, 'boolean =='],
    ['pci == false', false, 'boolean == other'],
    ['pci != false', true, 'boolean !='],
    ['pci != true', false, 'boolean != same'],
    ['pci < true', false, 'ordering on booleans is false'],
    ['pci <= true', false, 'ordering on booleans is false (<=)'],
    ['pci >= false', false, 'ordering on booleans is false (>=)'],
    ['pci > false', false, 'ordering on booleans is false (>)'],
    // in / not in
    ['env in {"dev", "prod"}', true, 'in: member'],
    ['env in {"dev", "test"}', false, 'in: not a member'],
    ['env not in {"dev", "test"}', true, 'not in: comparable, not a member'],
    ['env not in {"dev", "prod"}', false, 'not in: member'],
    ['tier in {1, 2}', true, 'in on integers'],
    ['tier in {"2", 2}', true, 'in: mixed literal types, same-typed one matches'],
    ['tier not in {"x", 3}', true, 'not in: an integer literal is present and none equal'],
    ['tier not in {"2"}', false, 'not in: no literal of the type'],
    ['pci in {true}', true, 'in on booleans'],
    ['pci not in {false}', true, 'not in on booleans'],
    ['pci not in {1}', false, 'not in: boolean value, only integer literals'],
    // JSON paths
    ['owner.team == "pay"', true, 'nested string'],
    ['owner["team"] in {"pay", "risk"}', true, 'bracketed segment'],
    ['owner.cc >= 40', true, 'nested safe integer'],
    ['owner.ratio < 1', false, 'a float never compares as an integer'],
    ['owner.ratio != 1', false, 'a float is another type: != false'],
    ['owner.ratio not in {1}', false, 'float: not in false'],
    ['has(owner.ratio)', true, 'has() on a float'],
    ['owner.big > 0', false, 'an unsafe integer does not compare'],
    ['owner.nothing == "x"', false, 'null never equals a literal'],
    ['owner.nothing != "x"', false, 'null: != false'],
    ['has(owner.nothing)', true, 'has() on a JSON null'],
    ['has(owner)', true, 'has() on a JSON object'],
    ['has(owner.sub)', true, 'has() on a nested object'],
    ['owner.sub.x == "y"', true, 'two levels deep'],
    ['owner.sub == "y"', false, 'an object never equals a literal'],
    ['owner.sub != "y"', false, 'object: != false'],
    ['owner != "x"', false, 'object tag: != false'],
    ['list == "a"', false, 'an array never equals a literal'],
    ['list not in {"c"}', false, 'array: not in false'],
    ['has(list)', true, 'has() on an array'],
    ['has(list["0"])', false, 'segments do not index arrays'],
    ['has(owner.list)', true, 'nested array exists'],
    ['has(owner.team.x)', false, 'cannot descend into a string'],
    ['owner.missing == 1', false, 'missing nested path'],
    ['has(owner.missing)', false, 'has() on a missing nested path'],
    ['has(env.x)', false, 'cannot descend into a string tag'],
    ['has(constructor)', false, 'only own properties count'],
    ['has(owner.constructor)', false, 'only own properties count (nested)'],
    ['owner.hasOwnProperty != "x"', false, 'prototype members are not paths'],
    ['["app.kubernetes.io/name"] == "web"', true, 'bracketed key with . and /'],
    ['has(["app.kubernetes.io/name"])', true, 'has() with a bracketed key'],
    // boolean structure
    ['env == "prod" && tier >= 2', true, 'and: both'],
    ['env == "prod" && tier >= 3', false, 'and: one false'],
    ['env == "dev" || tier >= 2', true, 'or: one'],
    ['env == "dev" || tier >= 3', false, 'or: none'],
    ['!(env == "dev")', true, 'not'],
    ['!all()', false, 'not all'],
    ['env == "dev" && tier == 2 || pci == true', true, '&& binds tighter than ||'],
    ['env == "dev" && (tier == 2 || pci == true)', false, 'parentheses'],
    ['!env == "dev" && pci == true', true, '! binds tightest'],
    ['a == 1 || b == 2 || c == 3 || env == "prod"', true, 'n-ary or'],
    ['env == "prod" && tier == 2 && pci == true && zone == "c"', false, 'n-ary and'],
    [
      'env == "prod" && (tier >= 2 || owner.team in {"pay","risk"}) && !has(quarantine)',
      true,
      'the contract example',
    ],
  ];
  it.each(cases)('%s → %s (%s)', (sel, expected) => {
    expect(run(sel)).toBe(expected);
  });

  it('works on tags without a prototype', () => {
    const bare = Object.assign(Object.create(null) as Tags, { env: 'prod' });
    expect(run('env == "prod"', bare)).toBe(true);
    expect(run('has(x)', bare)).toBe(false);
  });

  it('the contract example flips with quarantine', () => {
    const sel = 'env == "prod" && (tier >= 2 || owner.team in {"pay","risk"}) && !has(quarantine)';
    expect(run(sel, { ...tags, quarantine: true })).toBe(false);
    expect(run(sel, { env: 'prod', tier: 1, owner: { team: 'risk' } })).toBe(true);
    expect(run(sel, { env: 'prod', tier: 1, owner: { team: 'ops' } })).toBe(false);
  });

  it('inherited members are never paths, own tags with those names are', () => {
    const own = JSON.parse(
      '{"constructor": "c", "toString": 1, "o": {"__proto__": "p", "valueOf": true}}',
    ) as Tags;
    const cases: [string, Tags, boolean][] = [
      ['has(__proto__)', tags, false],
      ['has(toString)', tags, false],
      ['has(owner.__proto__)', tags, false],
      ['has(owner.toString)', tags, false],
      ['has(owner.sub.valueOf)', tags, false],
      ['constructor == "c"', own, true],
      ['toString >= 1', own, true],
      ['has(o.__proto__)', own, true],
      ['o.__proto__ == "p"', own, true],
      ['o.valueOf == true', own, true],
      ['has(o.toString)', own, false],
    ];
    for (const [sel, t, want] of cases) expect([sel, run(sel, t)]).toEqual([sel, want]);
  });

  it('compileSelectorCached memoizes by text', () => {
    const p = compileSelectorCached('tier == 2 && has(pci)');
    expect(compileSelectorCached('tier == 2 && has(pci)')).toBe(p);
    expect(p(tags)).toBe(true);
  });
});
