/**
 * A cheap necessary condition for a selector to match, used to index selectors and
 * identities so that evaluating a new identity (or a new selector) only tests the
 * candidates that can match, instead of every selector × every identity.
 *
 * - `eq`: the top-level key must equal this scalar (from `key == literal` in a
 *   conjunction);
 * - `key`: the top-level key must exist (any comparison, `in`, `has` reads it, and a
 *   missing path makes them false — design.md §1);
 * - `always`: no cheap condition (`all()`, `!`, `||`, …): always evaluate.
 *
 * @example guardOf(parseSelector('env == "prod" && tier >= 2')) // { kind: 'eq', key: 'env', value: 'prod' }
 */
import type { Selector } from '../selector/index.js';

export type Guard =
  | { kind: 'eq'; key: string; value: string | number | boolean }
  | { kind: 'key'; key: string }
  | { kind: 'always' };

export function guardOf(s: Selector): Guard {
  switch (s.type) {
    case 'cmp':
      if (s.op === '==' && s.path.length === 1)
        return { kind: 'eq', key: s.path[0]!, value: s.value };
      return { kind: 'key', key: s.path[0]! };
    case 'in':
      return { kind: 'key', key: s.path[0]! };
    case 'has':
      return { kind: 'key', key: s.path[0]! };
    case 'and': {
      const guards = s.exprs.map(guardOf);
      return (
        guards.find((g) => g.kind === 'eq') ??
        guards.find((g) => g.kind === 'key') ?? { kind: 'always' }
      );
    }
    default:
      return { kind: 'always' };
  }
}
