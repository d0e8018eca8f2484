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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a plain read `obj[k]` could see an inherited member (`constructor`,
 * `__proto__`, ...): such keys take the slower own-property check, every other
 * key a plain read (tag values are never `undefined`, so undefined = missing).
 */
function inherited(key: string): boolean {
  return key in Object.prototype;
}

/** A getter for a path: the value there, or MISSING. */
function compilePath(path: Path): Getter {
  const key = path[0]!;
  const segments = path.slice(1);
  if (segments.length === 0) {
    if (inherited(key)) return (tags) => (hasOwn.call(tags, key) ? tags[key] : MISSING);
    return (tags) => {
      const value = tags[key];
      return value === undefined ? MISSING : value;
    };
  }
  const careful = path.some(inherited);
  return (tags) => {
    if (careful && !hasOwn.call(tags, key)) return MISSING;
    let value: unknown = tags[key];
    if (value === undefined) return MISSING;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (!isObject(value) || (careful && !hasOwn.call(value, segment))) return MISSING;
      value = value[segment];
      if (value === undefined) return MISSING;
    }
    return value;
  };
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function compileCmp(get: Getter, op: CmpOp, lit: Literal): TagPredicate {
  if (typeof lit === 'boolean') {
    if (op === '==') return (tags) => get(tags) === lit;
    if (op === '!=') return (tags) => get(tags) === !lit;
    return () => false;
  }
  // Strings and integers: the type check, then JS comparison (numeric or code-unit order).
  const ok =
    typeof lit === 'string'
      ? (value: unknown): value is string => typeof value === 'string'
      : isInt;
  switch (op) {
    case '==':
      return (tags) => get(tags) === lit; // === implies the same type
    case '!=':
      return (tags) => {
        const value = get(tags);
        return ok(value) && value !== lit;
      };
    case '<':
      return (tags) => {
        const value = get(tags);
        return ok(value) && value < lit;
      };
    case '<=':
      return (tags) => {
        const value = get(tags);
        return ok(value) && value <= lit;
      };
    case '>':
      return (tags) => {
        const value = get(tags);
        return ok(value) && value > lit;
      };
    case '>=':
      return (tags) => {
        const value = get(tags);
        return ok(value) && value >= lit;
      };
  }
}

function compileIn(get: Getter, values: Literal[], negated: boolean): TagPredicate {
  const strings = new Set(values.filter((value): value is string => typeof value === 'string'));
  const integers = new Set(values.filter((value): value is number => typeof value === 'number'));
  const booleans = new Set(values.filter((value): value is boolean => typeof value === 'boolean'));
  // Returns 1 (member), 0 (comparable, not a member) or -1 (missing / other type).
  const member = (value: unknown): number => {
    if (typeof value === 'string') return strings.size === 0 ? -1 : strings.has(value) ? 1 : 0;
    if (isInt(value)) return integers.size === 0 ? -1 : integers.has(value) ? 1 : 0;
    if (typeof value === 'boolean') return booleans.size === 0 ? -1 : booleans.has(value) ? 1 : 0;
    return -1;
  };
  return negated ? (tags) => member(get(tags)) === 0 : (tags) => member(get(tags)) === 1;
}

/**
 * Compiles a parsed selector to a fast predicate.
 *
 * @example
 *   const p = compileSelector(parseSelector('tier >= 2'));
 *   p({ tier: 3 }) // true
 *   p({ tier: '3' }) // false: a string is not an integer
 */
export function compileSelector(selector: Selector): TagPredicate {
  switch (selector.type) {
    case 'all':
      return () => true;
    case 'has': {
      const get = compilePath(selector.path);
      return (tags) => get(tags) !== MISSING;
    }
    case 'cmp':
      return compileCmp(compilePath(selector.path), selector.op, selector.value);
    case 'in':
      return compileIn(compilePath(selector.path), selector.values, selector.negated);
    case 'not': {
      const inner = compileSelector(selector.expr);
      return (tags) => !inner(tags);
    }
    case 'and': {
      const predicates = selector.exprs.map(compileSelector);
      if (predicates.length === 2) {
        const [a, b] = predicates as [TagPredicate, TagPredicate];
        return (tags) => a(tags) && b(tags);
      }
      return (tags) => {
        for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(tags)) return false;
        return true;
      };
    }
    case 'or': {
      const predicates = selector.exprs.map(compileSelector);
      if (predicates.length === 2) {
        const [a, b] = predicates as [TagPredicate, TagPredicate];
        return (tags) => a(tags) || b(tags);
      }
      return (tags) => {
        for (let i = 0; i < predicates.length; i++) if (predicates[i]!(tags)) return true;
        return false;
      };
    }
  }
}
