/**
 * The selector language (design.md §1, docs/selectors.md): parse once, print
 * canonically, compile to a fast predicate over tags.
 *
 * @example
 *   const sel = parseSelector('env == "prod" && (tier >= 2 || owner.team in {"pay", "risk"})');
 *   const matches = compileSelector(sel);
 *   matches({ env: 'prod', tier: 1, owner: { team: 'pay' } }); // true
 *   selectorKeys(sel); // Set {'env', 'tier', 'owner'}
 */
import type { Selector } from './ast.js';
import { compileSelector, type TagPredicate } from './compile.js';
import { parseSelector } from './parse.js';
import { printSelector } from './print.js';

export type { CmpOp, Literal, Path, Selector } from './ast.js';
export { IDENT_RE, MAX_SELECTOR_DEPTH } from './ast.js';
export { parseSelector } from './parse.js';
export { printSelector, printPath, printLiteral, quoteString } from './print.js';
export { compileSelector, type TagPredicate } from './compile.js';

/**
 * The top-level tag keys a selector reads: only these keys can change whether it
 * matches, so only they split identities (design.md §3).
 *
 * @example selectorKeys(parseSelector('owner.team == "pay" || has(pci)')) // Set {'owner', 'pci'}
 */
export function selectorKeys(selector: Selector): Set<string> {
  const keys = new Set<string>();
  const walk = (e: Selector): void => {
    switch (e.type) {
      case 'all':
        return;
      case 'has':
      case 'cmp':
      case 'in':
        keys.add(e.path[0]!);
        return;
      case 'not':
        return walk(e.expr);
      case 'and':
      case 'or':
        return e.exprs.forEach(walk);
    }
  };
  walk(selector);
  return keys;
}

/**
 * `printSelector(parseSelector(text))`: equal for selectors that differ only in
 * spacing, quoting, redundant parentheses or `a.b` vs `a["b"]`. Use it for cache keys.
 *
 * @example canonicalSelector("env=='prod'") // 'env == "prod"'
 */
export function canonicalSelector(text: string): string {
  return memoized(canonical, text, printCanonical);
}

/**
 * Memo size bound: past it a memo starts over. A deployment has a few selectors per
 * policy; the bound sits well above the 10,000-policy scale of design.md §6, since a
 * memo that starts over in the middle of a load re-parses everything after it.
 */
const MEMO_LIMIT = 100_000;
const canonical = new Map<string, string>();
const parsed = new Map<string, Selector>();
const compiled = new Map<string, TagPredicate>();

/**
 * `memo`'s value for `text`, made (and kept, within MEMO_LIMIT) on a miss; a throw is
 * not kept. `make` is a module function, not a closure: a load calls this per rule.
 */
function memoized<V>(memo: Map<string, V>, text: string, make: (text: string) => V): V {
  let v = memo.get(text);
  if (v === undefined) {
    v = make(text);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(text, v);
  }
  return v;
}

const printCanonical = (text: string): string => printSelector(parseSelectorCached(text));
const parseFrozen = (text: string): Selector => deepFreeze(parseSelector(text));
const compileText = (text: string): TagPredicate => compileSelector(parseSelectorCached(text));

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(deepFreeze);
    Object.freeze(v);
  }
  return v;
}

/**
 * `parseSelector` with a memo keyed by text. The returned AST is deep-frozen
 * (it is shared); parse errors are not memoized.
 *
 * @example parseSelectorCached('all()') === parseSelectorCached('all()') // true
 */
export function parseSelectorCached(text: string): Selector {
  return memoized(parsed, text, parseFrozen);
}

/**
 * Parses and compiles selector text, memoized by text.
 *
 * @example compileSelectorCached('has(pci)')({ pci: true }) // true
 */
export function compileSelectorCached(text: string): TagPredicate {
  return memoized(compiled, text, compileText);
}

export { implicationTokens, selectorImplies } from './implies.js';
