import { describe, expect, it } from 'vitest';
import type { Selector } from './ast.js';
import {
  canonicalSelector,
  parseSelector,
  parseSelectorCached,
  printSelector,
  selectorKeys,
} from './index.js';

const cmp = (path: string[], op: string, value: string | number | boolean): Selector =>
  ({ type: 'cmp', path, op, value }) as Selector;
const has = (...path: string[]): Selector => ({ type: 'has', path });

describe('parseSelector: constructs', () => {
  const cases: [string, Selector][] = [
    ['all()', { type: 'all' }],
    ['  all ( )  ', { type: 'all' }],
    ['has(quarantine)', has('quarantine')],
    ['has(owner.team)', has('owner', 'team')],
    ['has(["app.kubernetes.io/name"])', has('app.kubernetes.io/name')],
    ['env == "prod"', cmp(['env'], '==', 'prod')],
    ["env == 'prod'", cmp(['env'], '==', 'prod')],
    ['env!="prod"', cmp(['env'], '!=', 'prod')],
    ['tier < 2', cmp(['tier'], '<', 2)],
    ['tier <= -2', cmp(['tier'], '<=', -2)],
    ['tier>3', cmp(['tier'], '>', 3)],
    ['tier >= 0', cmp(['tier'], '>=', 0)],
    ['tier == -0', cmp(['tier'], '==', 0)],
    ['tier == 007', cmp(['tier'], '==', 7)],
    ['pci == true', cmp(['pci'], '==', true)],
    ['pci != false', cmp(['pci'], '!=', false)],
    ['x == 9007199254740991', cmp(['x'], '==', 9007199254740991)],
    ['x == -9007199254740991', cmp(['x'], '==', -9007199254740991)],
    ['["app.kubernetes.io/name"] == "web"', cmp(['app.kubernetes.io/name'], '==', 'web')],
    ["['a b'] == 1", cmp(['a b'], '==', 1)],
    ['owner.team == "pay"', cmp(['owner', 'team'], '==', 'pay')],
    ['owner["team"] == "pay"', cmp(['owner', 'team'], '==', 'pay')],
    ['owner["cost center"].id == 4', cmp(['owner', 'cost center', 'id'], '==', 4)],
    ['a-b_c == 1', cmp(['a-b_c'], '==', 1)],
    ['_x == 1', cmp(['_x'], '==', 1)],
    // keywords are only keywords where the grammar expects them
    ['all == 1', cmp(['all'], '==', 1)],
    ['has == 1', cmp(['has'], '==', 1)],
    ['in == 1', cmp(['in'], '==', 1)],
    ['not in {1}', { type: 'in', path: ['not'], values: [1], negated: false }],
    ['true == true', cmp(['true'], '==', true)],
    ['has(all)', has('all')],
    [
      'team in {"pay", "risk"}',
      { type: 'in', path: ['team'], values: ['pay', 'risk'], negated: false },
    ],
    ['team in {"pay"}', { type: 'in', path: ['team'], values: ['pay'], negated: false }],
    ['x in {1, "a", true}', { type: 'in', path: ['x'], values: [1, 'a', true], negated: false }],
    ['team not in {"pay"}', { type: 'in', path: ['team'], values: ['pay'], negated: true }],
    ['team  not\n\tin{"pay"}', { type: 'in', path: ['team'], values: ['pay'], negated: true }],
    ['!has(x)', { type: 'not', expr: has('x') }],
    ['!!has(x)', { type: 'not', expr: { type: 'not', expr: has('x') } }],
    ['!a == 1', { type: 'not', expr: cmp(['a'], '==', 1) }],
    ['(has(x))', has('x')],
    ['((has(x)))', has('x')],
  ];
  it.each(cases)('%s', (text, ast) => {
    expect(parseSelector(text)).toEqual(ast);
  });
});

describe('parseSelector: strings and escapes', () => {
  const cases: [string, string][] = [
    [String.raw`"a\\b"`, 'a\\b'],
    [String.raw`"a\"b"`, 'a"b'],
    [String.raw`'a\'b'`, "a'b"],
    [String.raw`"it's"`, "it's"],
    [String.raw`'say "hi"'`, 'say "hi"'],
    [String.raw`"a\nb\tc"`, 'a\nb\tc'],
    [String.raw`"\u00e9\u20AC"`, 'é€'],
    [String.raw`"\ud83d\ude00"`, '😀'],
    ['"😀 ünïcödé"', '😀 ünïcödé'],
    ['""', ''],
  ];
  it.each(cases)('%s', (lit, value) => {
    expect(parseSelector(`x == ${lit}`)).toEqual(cmp(['x'], '==', value));
    expect(parseSelector(`x == ${printSelector(cmp(['x'], '==', value)).slice(5)}`)).toEqual(
      cmp(['x'], '==', value),
    );
  });
});

describe('parseSelector: precedence and flattening', () => {
  const a = cmp(['a'], '==', 1);
  const b = cmp(['b'], '==', 2);
  const c = cmp(['c'], '==', 3);
  const d = cmp(['d'], '==', 4);
  const cases: [string, Selector][] = [
    ['a == 1 && b == 2 || c == 3', { type: 'or', exprs: [{ type: 'and', exprs: [a, b] }, c] }],
    ['a == 1 || b == 2 && c == 3', { type: 'or', exprs: [a, { type: 'and', exprs: [b, c] }] }],
    ['(a == 1 || b == 2) && c == 3', { type: 'and', exprs: [{ type: 'or', exprs: [a, b] }, c] }],
    ['a == 1 && b == 2 && c == 3', { type: 'and', exprs: [a, b, c] }],
    ['a == 1 && (b == 2 && c == 3)', { type: 'and', exprs: [a, b, c] }],
    ['(a == 1 && b == 2) && (c == 3 && d == 4)', { type: 'and', exprs: [a, b, c, d] }],
    ['a == 1 || (b == 2 || c == 3) || d == 4', { type: 'or', exprs: [a, b, c, d] }],
    ['!a == 1 && b == 2', { type: 'and', exprs: [{ type: 'not', expr: a }, b] }],
    ['!(a == 1 && b == 2)', { type: 'not', expr: { type: 'and', exprs: [a, b] } }],
    [
      '!(a == 1) || !(b == 2)',
      {
        type: 'or',
        exprs: [
          { type: 'not', expr: a },
          { type: 'not', expr: b },
        ],
      },
    ],
  ];
  it.each(cases)('%s', (text, ast) => {
    expect(parseSelector(text)).toEqual(ast);
    expect(parseSelector(printSelector(ast))).toEqual(ast);
  });
});

describe('printSelector / canonicalSelector', () => {
  const cases: [string, string][] = [
    ["env=='prod'&&tier>=2", 'env == "prod" && tier >= 2'],
    ['owner["team"] in {"a","b"}', 'owner.team in {"a", "b"}'],
    ['["app.kubernetes.io/name"]=="web"', '["app.kubernetes.io/name"] == "web"'],
    ['a["x.y"] == 1', 'a["x.y"] == 1'],
    ['(a == 1 || b == 2) && c == 3', '(a == 1 || b == 2) && c == 3'],
    ['a == 1 && b == 2 || c == 3', 'a == 1 && b == 2 || c == 3'],
    ['!(a == 1)', '!(a == 1)'],
    ['!a == 1', '!(a == 1)'],
    ['! ! has( x )', '!!has(x)'],
    ['!(a == 1 || b == 2)', '!(a == 1 || b == 2)'],
    ["x == 'a\"b\\n'", 'x == "a\\"b\\n"'],
    ['x == "\\u0001\\u2028"', 'x == "\\u0001\\u2028"'],
    ['x not in {1,true,"s"}', 'x not in {1, true, "s"}'],
    ['x == -0', 'x == 0'],
  ];
  it.each(cases)('%s → %s', (text, canon) => {
    expect(canonicalSelector(text)).toBe(canon);
    expect(canonicalSelector(canon)).toBe(canon);
  });
});

describe('selectorKeys', () => {
  const cases: [string, string[]][] = [
    ['all()', []],
    ['env == "prod"', ['env']],
    ['owner.team == "pay" || has(pci)', ['owner', 'pci']],
    ['!(a in {1}) && b not in {2} && ["c.d/e"] < 3', ['a', 'b', 'c.d/e']],
    ['a == 1 && a.b == 2', ['a']],
  ];
  it.each(cases)('%s', (text, keys) => {
    expect([...selectorKeys(parseSelector(text))].sort()).toEqual([...keys].sort());
  });
});

describe('parseSelectorCached', () => {
  it('returns the same frozen AST for the same text', () => {
    const a = parseSelectorCached('env == "memo-test"');
    expect(parseSelectorCached('env == "memo-test"')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual(parseSelector('env == "memo-test"'));
  });
  it('does not memoize errors', () => {
    expect(() => parseSelectorCached('env ==')).toThrow(/column 7/);
    expect(() => parseSelectorCached('env ==')).toThrow(/column 7/);
  });
});
