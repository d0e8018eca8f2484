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
 * A conjunction's guard is its first `eq` (else first `key`) conjunct, which the
 * selector cache indexes by; the other conjuncts' guards ride along as `alternatives`
 * so that the identity side can pick the most selective one at evaluation time (an
 * imported selector such as `source == "k8s" && ns == "a" && app == "b"` would
 * otherwise test every identity against the first, least selective, conjunct).
 *
 * @example guardOf(parseSelector('env == "prod" && tier >= 2')) // { kind: 'eq', key: 'env', value: 'prod', alternatives: [{ kind: 'key', key: 'tier' }] }
 */
import type { Selector } from '../../selector/index.js';

export type KeyGuard =
  | { kind: 'eq'; key: string; value: string | number | boolean; alternatives?: KeyGuard[] }
  | { kind: 'key'; key: string; alternatives?: KeyGuard[] };

export type Guard = KeyGuard | { kind: 'always' };

export function guardOf(selector: Selector): Guard {
  switch (selector.type) {
    case 'cmp':
      if (selector.op === '==' && selector.path.length === 1)
        return { kind: 'eq', key: selector.path[0]!, value: selector.value };
      return { kind: 'key', key: selector.path[0]! };
    case 'in':
      return { kind: 'key', key: selector.path[0]! };
    case 'has':
      return { kind: 'key', key: selector.path[0]! };
    case 'and': {
      const guards = selector.exprs
        .map(guardOf)
        .filter((g): g is KeyGuard => g.kind !== 'always')
        .map(({ alternatives, ...g }) => [g, ...(alternatives ?? [])])
        .flat();
      const first = guards.find((g) => g.kind === 'eq') ?? guards.find((g) => g.kind === 'key');
      if (!first) return { kind: 'always' };
      const alternatives = guards.filter((g) => g !== first);
      return alternatives.length > 0 ? { ...first, alternatives } : first;
    }
    default:
      return { kind: 'always' };
  }
}
