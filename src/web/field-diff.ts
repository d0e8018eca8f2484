/**
 * Field-level difference of two versions of a resource: every leaf path whose value
 * differs (arrays compared as wholes — a reordered list is one change).
 */

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

const META = new Set(['revision', 'createdAt', 'updatedAt']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * @example fieldDiff({ tags: { a: 1 } }, { tags: { a: 2, b: true } })
 *   // [{ path: 'tags.a', before: 1, after: 2 }, { path: 'tags.b', after: true }]
 */
export function fieldDiff(before: unknown, after: unknown, prefix = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys
      .filter((k) => prefix !== '' || !META.has(k))
      .flatMap((k) => fieldDiff(before[k], after[k], prefix === '' ? k : `${prefix}.${k}`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [
    {
      path: prefix === '' ? '(document)' : prefix,
      ...(before !== undefined ? { before } : {}),
      ...(after !== undefined ? { after } : {}),
    },
  ];
}
