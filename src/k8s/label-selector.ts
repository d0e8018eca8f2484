/**
 * A Kubernetes label selector as a vnp selector over tags. matchLabels and every
 * matchExpression must all hold (AND); `{}` selects everything. NotIn and
 * DoesNotExist hold where the key is absent, exactly as upstream, which is why
 * NotIn becomes `!(k in {...})` and not vnp's `not in` (false on a missing key).
 */
import { printPath, quoteString } from '../selector/index.js';
import type { LabelSelector } from './objects.js';
import { and } from './naming.js';

/**
 * Translate a label selector; `prefix` maps label keys to tag keys (`ns:` for
 * namespace selectors). Returns undefined for the empty selector.
 *
 * @example
 *   labelSelector({ matchLabels: { pod: 'a' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }], field: '' })
 *   // → 'pod == "a" && !(env in {"dev"})'
 */
export function labelSelector(sel: LabelSelector, prefix = ''): string | undefined {
  const key = (k: string): string => printPath([prefix + k]);
  const set = (vs: string[]): string => `{${vs.map(quoteString).join(', ')}}`;
  const parts: string[] = Object.entries(sel.matchLabels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${key(k)} == ${quoteString(v)}`);
  for (const e of sel.matchExpressions) {
    switch (e.operator) {
      case 'In':
        parts.push(`${key(e.key)} in ${set(e.values)}`);
        break;
      case 'NotIn':
        parts.push(`!(${key(e.key)} in ${set(e.values)})`);
        break;
      case 'Exists':
        parts.push(`has(${key(e.key)})`);
        break;
      case 'DoesNotExist':
        parts.push(`!has(${key(e.key)})`);
        break;
    }
  }
  return parts.length === 0 ? undefined : and(...parts);
}
