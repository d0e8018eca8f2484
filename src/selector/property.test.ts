import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import type { Tags } from '../model/types.js';
import type { CmpOp, Literal, Selector } from './ast.js';
import { compileSelector, parseSelector, printSelector } from './index.js';

const OPS: CmpOp[] = ['==', '!=', '<', '<=', '>', '>='];

/** Flattens and/or the way the parser does, so generated ASTs are parser-shaped. */
function normalize(s: Selector): Selector {
  switch (s.type) {
    case 'not':
      return { type: 'not', expr: normalize(s.expr) };
    case 'and':
    case 'or': {
      const exprs = s.exprs.map(normalize).flatMap((e) => (e.type === s.type ? e.exprs : [e]));
      return { type: s.type, exprs };
    }
    default:
      return s;
  }
}

function selectorArb(
  key: fc.Arbitrary<string>,
  literal: fc.Arbitrary<Literal>,
): fc.Arbitrary<Selector> {
  const path = fc.tuple(key, fc.array(key, { maxLength: 2 })).map(([k, rest]) => [k, ...rest]);
  const { expr } = fc.letrec<{ expr: Selector }>((tie) => ({
    expr: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'sel' },
      fc.constant<Selector>({ type: 'all' }),
      path.map((p): Selector => ({ type: 'has', path: p })),
      fc
        .tuple(path, fc.constantFrom(...OPS), literal)
        .map(([p, op, value]): Selector => ({ type: 'cmp', path: p, op, value })),
      fc
        .tuple(path, fc.array(literal, { minLength: 1, maxLength: 4 }), fc.boolean())
        .map(([p, values, negated]): Selector => ({ type: 'in', path: p, values, negated })),
      tie('expr').map((e): Selector => ({ type: 'not', expr: e })),
      fc
        .array(tie('expr'), { minLength: 2, maxLength: 4 })
        .map((exprs): Selector => ({ type: 'and', exprs })),
      fc
        .array(tie('expr'), { minLength: 2, maxLength: 4 })
        .map((exprs): Selector => ({ type: 'or', exprs })),
    ),
  }));
  return expr.map(normalize);
}

const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const wideKey = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/),
  fc.string({ maxLength: 8, unit: 'binary' }),
  fc.constantFrom('all', 'has', 'in', 'not', 'true', 'false', 'app.kubernetes.io/name', ''),
);
const wideLiteral = fc.oneof(
  fc.string({ maxLength: 10, unit: 'binary' }),
  safeInt.map((n) => (n === 0 ? 0 : n)),
  fc.boolean(),
);

describe('selector properties', () => {
  it('(a) any text parses or throws VNP_ERR_SELECTOR_SYNTAX with a column in 1..len+1', () => {
    const grammarish = fc
      .array(
        fc.constantFrom(
          'a',
          'b.c',
          '["k"]',
          '==',
          '!=',
          '<',
          '>=',
          'in',
          'not',
          '{',
          '}',
          ',',
          '(',
          ')',
          '!',
          '&&',
          '||',
          'all()',
          'has(',
          '"s"',
          "'t",
          '1',
          '-',
          '1.5',
          ' ',
          '\\',
          'true',
          '.',
          '[',
          ']',
        ),
        { maxLength: 20 },
      )
      .map((parts) => parts.join(''));
    const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), grammarish);
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          parseSelector(text);
        } catch (e) {
          expect(e).toBeInstanceOf(VnpError);
          const err = e as VnpError;
          expect(err.code).toBe('VNP_ERR_SELECTOR_SYNTAX');
          expect(err.details?.column).toBeGreaterThanOrEqual(1);
          expect(err.details?.column).toBeLessThanOrEqual(text.length + 1);
          expect(typeof err.details?.expected).toBe('string');
          expect(err.message).toMatch(/^column \d+: expected .+, found .+$/s);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('(b) parse(print(ast)) deep-equals ast, and printing is canonical', () => {
    fc.assert(
      fc.property(selectorArb(wideKey, wideLiteral), (ast) => {
        const text = printSelector(ast);
        const back = parseSelector(text);
        expect(back).toEqual(ast);
        expect(printSelector(back)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  // (c) a direct, unoptimized reading of the semantics in docs/selectors.md
  type Found = { found: false } | { found: true; v: unknown };
  function lookup(tags: Tags, path: readonly string[]): Found {
    let cur: unknown = tags;
    for (const seg of path) {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return { found: false };
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return { found: false };
      cur = (cur as Record<string, unknown>)[seg];
    }
    return { found: true, v: cur };
  }
  function typeOf(v: unknown): 'string' | 'int' | 'bool' | 'other' {
    if (typeof v === 'string') return 'string';
    if (typeof v === 'boolean') return 'bool';
    if (typeof v === 'number' && Number.isSafeInteger(v)) return 'int';
    return 'other';
  }
  function interpret(s: Selector, tags: Tags): boolean {
    switch (s.type) {
      case 'all':
        return true;
      case 'has':
        return lookup(tags, s.path).found;
      case 'not':
        return !interpret(s.expr, tags);
      case 'and':
        return s.exprs.every((e) => interpret(e, tags));
      case 'or':
        return s.exprs.some((e) => interpret(e, tags));
      case 'cmp': {
        const r = lookup(tags, s.path);
        if (!r.found || typeOf(r.v) !== typeOf(s.value)) return false;
        const v = r.v as Literal;
        if (typeof v === 'boolean' && !['==', '!='].includes(s.op)) return false;
        switch (s.op) {
          case '==':
            return v === s.value;
          case '!=':
            return v !== s.value;
          case '<':
            return v < s.value;
          case '<=':
            return v <= s.value;
          case '>':
            return v > s.value;
          case '>=':
            return v >= s.value;
        }
        return false;
      }
      case 'in': {
        const r = lookup(tags, s.path);
        if (!r.found) return false;
        const t = typeOf(r.v);
        if (t === 'other' || !s.values.some((l) => typeOf(l) === t)) return false;
        const member = s.values.some((l) => l === r.v);
        return s.negated ? !member : member;
      }
    }
  }

  const keys = ['a', 'b', 'o', 'x.y', 'constructor', 'toString'];
  const smallLiteral = fc.oneof(
    fc.constantFrom('p', 'q', '', 'P'),
    fc.integer({ min: -2, max: 2 }),
    fc.boolean(),
  );
  const json: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { maxDepth: 3 },
      smallLiteral,
      fc.constant(null),
      fc.constantFrom(0.5, 2 ** 60),
      fc.array(tie('v'), { maxLength: 2 }),
      fc.dictionary(fc.constantFrom(...keys), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const tagsArb = fc.dictionary(
    fc.constantFrom(...keys),
    fc.oneof(
      smallLiteral,
      fc.dictionary(fc.constantFrom(...keys), json, { maxKeys: 3 }),
      fc.array(json, { maxLength: 2 }),
    ),
    { maxKeys: 4 },
  ) as fc.Arbitrary<Tags>;

  it('(c) compileSelector agrees with a direct interpreter', () => {
    fc.assert(
      fc.property(
        selectorArb(fc.constantFrom(...keys), smallLiteral),
        fc.array(tagsArb, { minLength: 1, maxLength: 8 }),
        (ast, tagSets) => {
          const p = compileSelector(ast);
          for (const t of tagSets) expect(p(t)).toBe(interpret(ast, t));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
