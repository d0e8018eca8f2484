/**
 * A sound, incomplete implication test between selectors: `selectorImplies(a, b)` is
 * true only when every tag set that `a` matches is matched by `b` — for all tag sets,
 * present or future. It proves by structure only (no reasoning about ranges or value
 * types), so it answers false for many true implications; callers that warn on its
 * answer never warn falsely (docs/semantics.md, "Rules that can never decide").
 *
 * What it proves:
 * - anything implies `all()`; a selector implies itself (canonical form);
 * - `a1 || a2` implies b when each ai does; a implies `b1 && b2` when it implies each;
 * - `a1 && a2` implies b when some ai does; a implies `b1 || b2` when it implies some;
 * - `p == v` implies `p in {…, v, …}`; `p in S` implies `p in T` when S ⊆ T;
 * - any comparison on a path implies `has()` of that path or of a prefix of it (a
 *   comparison with a missing path is false, design.md §1 Selectors).
 *
 * @example
 *   selectorImplies(parseSelector('env == "prod" && tier == 2'), parseSelector('env == "prod"')) // true
 *   selectorImplies(parseSelector('tier >= 3'), parseSelector('tier >= 2')) // false (not proved)
 */
import type { Literal, Path, Selector } from './ast.js';

export function selectorImplies(a: Selector, b: Selector): boolean {
  if (b.type === 'all') return true;
  if (a.type === 'or') return a.exprs.every((x) => selectorImplies(x, b));
  if (b.type === 'and') return b.exprs.every((y) => selectorImplies(a, y));
  if (a.type === 'and' && a.exprs.some((x) => selectorImplies(x, b))) return true;
  if (b.type === 'or' && b.exprs.some((y) => selectorImplies(a, y))) return true;
  return atomImplies(a, b) || sameSelector(a, b);
}

/** Structural equality: the same canonical text (printSelector keeps operand order). */
function sameSelector(a: Selector, b: Selector): boolean {
  switch (a.type) {
    case 'all':
      return b.type === 'all';
    case 'has':
      return b.type === 'has' && samePath(a.path, b.path);
    case 'cmp':
      return b.type === 'cmp' && a.op === b.op && a.value === b.value && samePath(a.path, b.path);
    case 'in':
      return (
        b.type === 'in' &&
        a.negated === b.negated &&
        samePath(a.path, b.path) &&
        a.values.length === b.values.length &&
        a.values.every((v, i) => v === b.values[i])
      );
    case 'not':
      return b.type === 'not' && sameSelector(a.expr, b.expr);
    case 'and':
    case 'or':
      return (
        b.type === a.type &&
        a.exprs.length === b.exprs.length &&
        a.exprs.every((x, i) => sameSelector(x, b.exprs[i]!))
      );
  }
}

/** Implications between single tests (no `and`/`or` at the top of `b`). */
function atomImplies(a: Selector, b: Selector): boolean {
  if (a.type !== 'cmp' && a.type !== 'in') return false;
  if (b.type === 'has') return isPrefix(b.path, a.path);
  if (b.type !== 'in' || b.negated || !samePath(a.path, b.path)) return false;
  if (a.type === 'cmp') return a.op === '==' && b.values.some((v) => sameLiteral(v, a.value));
  return !a.negated && a.values.every((v) => b.values.some((w) => sameLiteral(v, w)));
}

function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && isPrefix(a, b);
}

function isPrefix(prefix: Path, path: Path): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => seg === path[i]);
}

/** Same type and value: `2` and `"2"` are different literals (design.md §1). */
function sameLiteral(a: Literal, b: Literal): boolean {
  return a === b;
}

/**
 * Tokens that index implication candidates. Invariant (property-tested): when
 * `selectorImplies(a, b)`, either `b`'s `conclusion` is undefined (it holds an `all()`,
 * so it can be implied without sharing a test) or it shares a token with `a`'s
 * `premise`. So a caller can look candidates up by token instead of trying every pair.
 *
 * @example implicationTokens(parseSelector('app == "web"')) // premise {'app=="web"', 'has app'}, conclusion {'app=="web"'}
 */
export function implicationTokens(selector: Selector): {
  premise: Set<string>;
  conclusion: Set<string> | undefined;
} {
  const premise = new Set<string>();
  const conclusion = new Set<string>();
  let hasAll = false;
  const walk = (e: Selector): void => {
    switch (e.type) {
      case 'all':
        hasAll = true;
        return;
      case 'has':
        premise.add(`has ${pathKey(e.path)}`);
        conclusion.add(`has ${pathKey(e.path)}`);
        return;
      case 'cmp':
      case 'in': {
        for (const token of testTokens(e)) {
          premise.add(token);
          conclusion.add(token);
        }
        for (let n = 1; n <= e.path.length; n++) premise.add(`has ${pathKey(e.path.slice(0, n))}`);
        return;
      }
      case 'not':
        return walk(e.expr);
      case 'and':
      case 'or':
        return e.exprs.forEach(walk);
    }
  };
  walk(selector);
  return { premise, conclusion: hasAll ? undefined : conclusion };
}

/** `p=="v"` per value a test can equal; other tests name themselves whole. */
function testTokens(e: Extract<Selector, { type: 'cmp' | 'in' }>): string[] {
  const p = pathKey(e.path);
  if (e.type === 'cmp')
    return [
      e.op === '=='
        ? `${p}==${JSON.stringify(e.value)}`
        : `${p} ${e.op} ${JSON.stringify(e.value)}`,
    ];
  if (e.negated) return [`${p} not in ${JSON.stringify(e.values)}`];
  return e.values.map((v) => `${p}==${JSON.stringify(v)}`);
}

function pathKey(path: Path): string {
  return JSON.stringify(path);
}
