/**
 * The selector AST (design.md §1 Selectors). Produced by `parseSelector`, printed
 * canonically by `printSelector`, compiled to a predicate by `compileSelector`.
 *
 * Invariants every producer keeps (the parser does, property tests check it):
 * - `and` / `or` have 2+ operands and are flattened: an `and` never directly
 *   contains an `and`, an `or` never directly contains an `or`;
 * - `in` has 1+ values;
 * - a `Path` has 1+ elements: the top-level tag key, then segments into a JSON tag;
 * - integer literals are safe integers (never -0).
 */

/** Comparison operators. */
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A literal: a string, a safe integer or a boolean. */
export type Literal = string | number | boolean;

/**
 * `[key, ...segments]`: `owner.team` → `['owner', 'team']`;
 * `["app.kubernetes.io/name"]` → `['app.kubernetes.io/name']`.
 */
export type Path = readonly string[];

/** A parsed selector. */
export type Selector =
  | { type: 'all' }
  | { type: 'has'; path: Path }
  | { type: 'cmp'; path: Path; op: CmpOp; value: Literal }
  | { type: 'in'; path: Path; values: Literal[]; negated: boolean }
  | { type: 'not'; expr: Selector }
  | { type: 'and'; exprs: Selector[] } // 2+ operands, flattened
  | { type: 'or'; exprs: Selector[] }; // 2+ operands, flattened

/** The identifier form of keys and segments: `[A-Za-z_][A-Za-z0-9_-]*`. */
export const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Nesting limit of parentheses and `!`: keeps parse, print and compile off deep recursion. */
export const MAX_SELECTOR_DEPTH = 64;
