/**
 * Which vnp documents an import source owns, and what a new import of that source
 * changes: like `kubectl apply --prune`, what the source created before and is now
 * absent is deleted; records and policies of other sources or made by hand are
 * never touched (a name clash with one of them is refused).
 */
import { VnpError } from '../model/errors.js';
import type { Document, Kind } from '../model/types.js';
import { ownerMark, SOURCE_TAG } from './naming.js';

/**
 * Does `source` own this document? Records carry the reserved `k8s:source` tag;
 * policies the owner mark at the start of their description.
 *
 * @example ownedBy({ kind: 'Interface', name: 'k8s.x.a', subnet: 'pods', ips: ['10.0.0.1'], tags: { 'k8s:source': 'k8s' } }, 'k8s') // true
 */
export function ownedBy(doc: Document, source: string): boolean {
  if (doc.kind === 'Interface') return doc.tags[SOURCE_TAG] === source;
  if (doc.kind === 'Policy') return doc.description?.startsWith(ownerMark(source)) === true;
  return false;
}

/** Does any import source own it (so another source must not take it over)? */
function ownedByAnImport(doc: Document): boolean {
  if (doc.kind === 'Interface') return typeof doc.tags[SOURCE_TAG] === 'string';
  if (doc.kind === 'Policy')
    return /^k8s import \(source [a-z0-9-]+\): /.test(doc.description ?? '');
  return false;
}

export interface ImportPlan {
  puts: Document[];
  deletes: { kind: Kind; name: string }[];
}

/**
 * The changes that make vnp hold exactly `documents` for `source`.
 *
 * @example planImport(existingInterfacesAndPolicies, translation.documents, 'k8s')
 */
export function planImport(
  existing: readonly Document[],
  documents: readonly Document[],
  source: string,
): ImportPlan {
  const wanted = new Set(documents.map((d) => `${d.kind}/${d.name}`));
  const byKey = new Map(existing.map((d) => [`${d.kind}/${d.name}`, d]));
  for (const d of documents) {
    const before = byKey.get(`${d.kind}/${d.name}`);
    if (before !== undefined && !ownedBy(before, source)) {
      const who = ownedByAnImport(before) ? 'another import source' : 'hand';
      throw new VnpError(
        'VNP_ERR_CONFLICT',
        `${d.kind} ${d.name} exists and was made by ${who}, not by source ${source}: the import will not replace it (rename it, or use another --source)`,
        { field: 'objects', kind: d.kind, name: d.name },
      );
    }
  }
  const deletes = existing
    .filter((d) => ownedBy(d, source) && !wanted.has(`${d.kind}/${d.name}`))
    .map((d) => ({ kind: d.kind, name: d.name }));
  return { puts: [...documents], deletes };
}
