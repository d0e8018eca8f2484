import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tags, TagValue } from '../model/types.js';
import type { CmpOp, Literal, Selector } from './ast.js';
import { implicationTokens, selectorImplies } from './implies.js';
import { compileSelector, parseSelector } from './index.js';

const implies = (a: string, b: string) => selectorImplies(parseSelector(a), parseSelector(b));

describe('selectorImplies', () => {
  it.each([
    ['env == "prod"', 'all()'],
    ['env == "prod"', "env=='prod'"],
    ['env == "prod" && tier == 2', 'env == "prod"'],
    ['env == "prod" && tier == 2', 'tier == 2 && env == "prod"'],
    ['env == "prod"', 'env == "prod" || has(pci)'],
    ['env == "prod" || env == "dev"', 'env in {"prod", "dev", "test"}'],
    ['env in {"prod"}', 'env in {"prod", "dev"}'],
    ['owner.team == "pay"', 'has(owner)'],
    ['owner.team != "pay"', 'has(owner.team)'],
    ['!has(quarantine) && app == "web"', '!has(quarantine)'],
  ])('%s implies %s', (a, b) => expect(implies(a, b)).toBe(true));

  it.each([
    ['all()', 'env == "prod"'],
    ['env == "prod"', 'env == "dev"'],
    ['env == "prod" || has(pci)', 'env == "prod"'],
    ['tier == 2', 'tier == "2"'],
    ['env in {"prod", "dev"}', 'env in {"prod"}'],
    ['env not in {"dev"}', 'env not in {"dev", "test"}'],
    ['has(owner)', 'has(owner.team)'],
    ['!has(pci)', 'pci != true'],
    ['tier >= 3', 'tier >= 2'], // true, but not proved: the test is structural
  ])('%s does not (provably) imply %s', (a, b) => expect(implies(a, b)).toBe(false));
});

// ---------------------------------------------------------------- soundness
// A small vocabulary so that implications hold often and tag sets hit them.
const KEYS = ['a', 'b'];
const LITERALS: Literal[] = [1, 2, '1', 'x', true];
const OPS: CmpOp[] = ['==', '!=', '<', '>='];

const path = fc.oneof(
  fc.constantFrom(...KEYS).map((k) => [k]),
  fc.constantFrom(...KEYS).map((k) => [k, 'c']),
);
const literal = fc.constantFrom(...LITERALS);
const { sel } = fc.letrec<{ sel: Selector }>((tie) => ({
  sel: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'implies' },
    fc.constant<Selector>({ type: 'all' }),
    path.map((p): Selector => ({ type: 'has', path: p })),
    fc
      .tuple(path, fc.constantFrom(...OPS), literal)
      .map(([p, op, value]): Selector => ({ type: 'cmp', path: p, op, value })),
    fc
      .tuple(path, fc.uniqueArray(literal, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([p, values, negated]): Selector => ({ type: 'in', path: p, values, negated })),
    tie('sel').map((e): Selector => ({ type: 'not', expr: e })),
    fc.array(tie('sel'), { minLength: 2, maxLength: 3 }).map(flat('and')),
    fc.array(tie('sel'), { minLength: 2, maxLength: 3 }).map(flat('or')),
  ),
}));

/** Builds and/or flattened as the parser does (an `and` never directly holds an `and`). */
function flat(type: 'and' | 'or') {
  return (exprs: Selector[]): Selector => ({
    type,
    exprs: exprs.flatMap((e) => (e.type === type ? e.exprs : [e])),
  });
}

const value: fc.Arbitrary<TagValue> = fc.oneof(
  literal,
  fc.record({ c: literal }, { requiredKeys: [] }),
);
const tags: fc.Arbitrary<Tags> = fc.record({ a: value, b: value }, { requiredKeys: [] });

/** `a` and a `b` that it often implies: a itself widened, or a weakened part of it. */
const pair = fc.oneof(
  fc.tuple(sel, sel),
  fc.tuple(sel, sel).map(([a, x]): [Selector, Selector] => [a, flat('or')([a, x])]),
  fc.tuple(sel, sel).map(([a, x]): [Selector, Selector] => [flat('and')([a, x]), a]),
  fc
    .tuple(sel, sel, sel)
    .map(([a, x, y]): [Selector, Selector] => [flat('and')([a, x]), flat('or')([y, a])]),
);

describe('selectorImplies is sound', () => {
  it('when it says a implies b, every tag set a matches is matched by b', () => {
    let proved = 0;
    fc.assert(
      fc.property(pair, fc.array(tags, { minLength: 1, maxLength: 30 }), ([a, b], sets) => {
        if (!selectorImplies(a, b)) return;
        proved++;
        const pa = compileSelector(a);
        const pb = compileSelector(b);
        for (const t of sets) if (pa(t)) expect(pb(t)).toBe(true);
        // The token index never hides a candidate it proves.
        const { conclusion } = implicationTokens(b);
        const { premise } = implicationTokens(a);
        if (conclusion) expect([...conclusion].some((t) => premise.has(t))).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(proved).toBeGreaterThan(500);
  });
});
