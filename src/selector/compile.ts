/**
 * Compiles a selector AST into a predicate over tags. All decisions that depend
 * only on the selector (operator, literal type, path shape, set contents) are
 * taken once here; the returned closure does lookups and comparisons only, and
 * allocates nothing per call.
 *
 * Semantics (design.md §1, the normative table is in docs/selectors.md):
 * - a path reads the top-level tag, then each segment from a JSON object (never
 *   an array); only own properties count, so `constructor` is just a key;
 * - `has(p)`: p exists, whatever its value (objects, arrays and JSON null too);
 * - a comparison is false when the path is missing or holds a value of another
 *   type than the literal, for every operator including `!=`;
 * - objects, arrays and null never equal a literal; a JSON number compares as an
 *   integer only if it is a safe integer;
 * - `<`, `<=`, `>`, `>=` order integers numerically and strings by UTF-16 code
 *   units (JS `<`); on booleans they are always false;
 * - `in`: the value has the type of one of the literals and equals it;
 *   `not in`: the value is a scalar whose type appears among the literals and it
 *   equals none of them (missing or other-typed values: false).
 */
import type { Tags } from '../model/types.js';
import type { CmpOp, Literal, Path, Selector } from './ast.js';

/** A compiled selector. */
export type TagPredicate = (tags: Tags) => boolean;

const MISSING: unique symbol = Symbol('missing');
type Getter = (tags: Tags) => unknown;

const hasOwn = Object.prototype.hasOwnProperty;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether a plain read `obj[k]` could see an inherited member (`constructor`,
 * `__proto__`, ...): such keys take the slower own-property check, every other
 * key a plain read (tag values are never `undefined`, so undefined = missing).
 */
function inherited(k: string): boolean {
  return k in Object.prototype;
}

/** A getter for a path: the value there, or MISSING. */
function compilePath(path: Path): Getter {
  const key = path[0]!;
  const segs = path.slice(1);
  if (segs.length === 0) {
    if (inherited(key)) return (t) => (hasOwn.call(t, key) ? t[key] : MISSING);
    return (t) => {
      const v = t[key];
      return v === undefined ? MISSING : v;
    };
  }
  const careful = path.some(inherited);
  return (t) => {
    if (careful && !hasOwn.call(t, key)) return MISSING;
    let v: unknown = t[key];
    if (v === undefined) return MISSING;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      if (!isObject(v) || (careful && !hasOwn.call(v, s))) return MISSING;
      v = v[s];
      if (v === undefined) return MISSING;
    }
    return v;
  };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function compileCmp(get: Getter, op: CmpOp, lit: Literal): TagPredicate {
  if (typeof lit === 'boolean') {
    if (op === '==') return (t) => get(t) === lit;
    if (op === '!=') return (t) => get(t) === !lit;
    return () => false;
  }
  // Strings and integers: the type check, then JS comparison (numeric or code-unit order).
  const ok = typeof lit === 'string' ? (v: unknown): v is string => typeof v === 'string' : isInt;
  switch (op) {
    case '==':
      return (t) => get(t) === lit; // === implies the same type
    case '!=':
      return (t) => {
        const v = get(t);
        return ok(v) && v !== lit;
      };
    case '<':
      return (t) => {
        const v = get(t);
        return ok(v) && v < lit;
      };
    case '<=':
      return (t) => {
        const v = get(t);
        return ok(v) && v <= lit;
      };
    case '>':
      return (t) => {
        const v = get(t);
        return ok(v) && v > lit;
      };
    case '>=':
      return (t) => {
        const v = get(t);
        return ok(v) && v >= lit;
      };
  }
}

function compileIn(get: Getter, values: Literal[], negated: boolean): TagPredicate {
  const strs = new Set(values.filter((v): v is string => typeof v === 'string'));
  const ints = new Set(values.filter((v): v is number => typeof v === 'number'));
  const bools = new Set(values.filter((v): v is boolean => typeof v === 'boolean'));
  // Returns 1 (member), 0 (comparable, not a member) or -1 (missing / other type).
  const member = (v: unknown): number => {
    if (typeof v === 'string') return strs.size === 0 ? -1 : strs.has(v) ? 1 : 0;
    if (isInt(v)) return ints.size === 0 ? -1 : ints.has(v) ? 1 : 0;
    if (typeof v === 'boolean') return bools.size === 0 ? -1 : bools.has(v) ? 1 : 0;
    return -1;
  };
  return negated ? (t) => member(get(t)) === 0 : (t) => member(get(t)) === 1;
}

/**
 * Compiles a parsed selector to a fast predicate.
 *
 * @example
 *   const p = compileSelector(parseSelector('tier >= 2'));
 *   p({ tier: 3 }) // true
 *   p({ tier: '3' }) // false: a string is not an integer
 */
export function compileSelector(s: Selector): TagPredicate {
  switch (s.type) {
    case 'all':
      return () => true;
    case 'has': {
      const get = compilePath(s.path);
      return (t) => get(t) !== MISSING;
    }
    case 'cmp':
      return compileCmp(compilePath(s.path), s.op, s.value);
    case 'in':
      return compileIn(compilePath(s.path), s.values, s.negated);
    case 'not': {
      const inner = compileSelector(s.expr);
      return (t) => !inner(t);
    }
    case 'and': {
      const ps = s.exprs.map(compileSelector);
      if (ps.length === 2) {
        const [a, b] = ps as [TagPredicate, TagPredicate];
        return (t) => a(t) && b(t);
      }
      return (t) => {
        for (let i = 0; i < ps.length; i++) if (!ps[i]!(t)) return false;
        return true;
      };
    }
    case 'or': {
      const ps = s.exprs.map(compileSelector);
      if (ps.length === 2) {
        const [a, b] = ps as [TagPredicate, TagPredicate];
        return (t) => a(t) || b(t);
      }
      return (t) => {
        for (let i = 0; i < ps.length; i++) if (ps[i]!(t)) return true;
        return false;
      };
    }
  }
}
