/**
 * Typed tag values as the editor holds them (text plus a type) and back. The types are
 * the tag values the API stores (design.md §1 tags): string, safe integer, boolean, or
 * any JSON value; a row that does not parse as its type names why.
 */

export const TAG_TYPES = ['string', 'integer', 'boolean', 'json'] as const;
export type TagType = (typeof TAG_TYPES)[number];

export interface TagRow {
  key: string;
  type: TagType;
  text: string;
}

/**
 * The editor row of a stored value.
 *
 * @example rowOf('tier', 2) // { key: 'tier', type: 'integer', text: '2' }
 */
export function rowOf(key: string, value: unknown): TagRow {
  if (typeof value === 'string') return { key, type: 'string', text: value };
  if (typeof value === 'boolean') return { key, type: 'boolean', text: String(value) };
  if (typeof value === 'number' && Number.isSafeInteger(value))
    return { key, type: 'integer', text: String(value) };
  return { key, type: 'json', text: JSON.stringify(value) };
}

/**
 * The value a row stands for, or why it is not one.
 *
 * @example valueOf({ key: 'tier', type: 'integer', text: '2.5' }) // { error: 'tier: an integer (…), got "2.5"' }
 */
export function valueOf(row: TagRow): { value: unknown } | { error: string } {
  const t = row.text.trim();
  switch (row.type) {
    case 'string':
      return { value: row.text };
    case 'integer': {
      const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
      return Number.isSafeInteger(n)
        ? { value: n }
        : { error: `${row.key}: an integer (at most 2^53−1 in magnitude), got "${row.text}"` };
    }
    case 'boolean':
      return t === 'true' || t === 'false'
        ? { value: t === 'true' }
        : { error: `${row.key}: true or false, got "${row.text}"` };
    case 'json':
      try {
        return { value: JSON.parse(t) as unknown };
      } catch (e) {
        return { error: `${row.key}: JSON (${(e as Error).message})` };
      }
  }
}

/**
 * The tag patch that turns `before` into the rows: keys set (changed or new) and removed.
 *
 * @example patchOf({ a: 1 }, [{ key: 'a', type: 'integer', text: '2' }]) // { set: { a: 2 }, remove: [] }
 */
export function patchOf(
  before: Record<string, unknown>,
  rows: TagRow[],
): { set: Record<string, unknown>; remove: string[] } | { error: string } {
  const set: Record<string, unknown> = {};
  const keys = new Set<string>();
  for (const row of rows) {
    if (row.key.trim() === '') return { error: 'a tag needs a key' };
    if (keys.has(row.key)) return { error: `${row.key}: the key appears twice` };
    keys.add(row.key);
    const v = valueOf(row);
    if ('error' in v) return v;
    if (JSON.stringify(before[row.key]) !== JSON.stringify(v.value) || !(row.key in before))
      set[row.key] = v.value;
  }
  return { set, remove: Object.keys(before).filter((k) => !keys.has(k)) };
}
