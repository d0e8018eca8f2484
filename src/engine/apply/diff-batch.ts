/** What a batch would do to each document, without doing it (for dry runs and previews). */
import { stripMeta } from '../../model/strip-meta.js';
import { canonicalTagsJson } from '../../model/tags.js';
import type { Document, Kind } from '../../model/types.js';
import type { HeldDocument } from '../state/document-index.js';
import type { Change } from '../types.js';

export interface DocumentDiff {
  op: 'create' | 'replace' | 'delete' | 'unchanged';
  kind: Kind;
  name: string;
  before?: Document;
  after?: Document;
}

/** Each change against the document `get` returns now (metadata ignored). */
export function diffBatch(
  changes: readonly Change[],
  get: (kind: Kind, name: string) => HeldDocument | undefined,
): DocumentDiff[] {
  return changes.map((c) => {
    const kind = c.op === 'put' ? c.doc.kind : c.kind;
    const name = c.op === 'put' ? c.doc.name : c.name;
    const before = get(kind, name);
    if (c.op === 'delete')
      return {
        op: 'delete' as const,
        kind,
        name,
        ...(before ? { before: stripMeta(before) } : {}),
      };
    if (!before) return { op: 'create' as const, kind, name, after: c.doc };
    const b = stripMeta(before);
    const same = canonicalTagsJson(b as never) === canonicalTagsJson(stripMeta(c.doc) as never);
    return {
      op: same ? ('unchanged' as const) : ('replace' as const),
      kind,
      name,
      before: b,
      after: c.doc,
    };
  });
}
