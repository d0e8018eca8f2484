/**
 * A manager's error about an applied batch names a document by its index
 * (`documents[54].ingress[0].from.cidr`) or by kind and name; the user wrote files.
 * Rewrite it to name the file, line and column, as syntax errors already do.
 */
import { VnpError } from '../model/errors.js';
import type { LoadedDocument } from './load-documents.js';

/**
 * `ingress[0].from.cidr` → `['ingress', 0, 'from', 'cidr']`.
 *
 * @example fieldPath('.ingress[0].from.cidr') // ['ingress', 0, 'from', 'cidr']
 */
export function fieldPath(text: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of text.matchAll(/\[(\d+)\]|\.?([^.[\]]+)/g)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(m[2]);
  }
  return out;
}

/**
 * The error with its message prefixed by `file:line:col:` of the field it names
 * (details gain `file`, `line`, `column`), or the error unchanged when it names
 * no document of the batch.
 *
 * @example
 *   relocateError(new VnpError('VNP_ERR_VALIDATION', 'documents[1].cidr: expected a CIDR', { field: 'documents[1].cidr' }), loaded)
 *   // VnpError('… net.yaml:7:7: Subnet/back: cidr: expected a CIDR')
 */
export function relocateError(err: unknown, loaded: readonly LoadedDocument[]): unknown {
  if (!(err instanceof VnpError)) return err;
  const field = typeof err.details?.field === 'string' ? err.details.field : '';
  const m = /^documents\[(\d+)\](.*)$/.exec(field);
  let doc: LoadedDocument | undefined;
  let rest = '';
  if (m) {
    doc = loaded[Number(m[1])];
    rest = m[2] ?? '';
  } else if (typeof err.details?.kind === 'string' && typeof err.details.name === 'string') {
    const { kind, name } = err.details;
    doc = loaded.find((d) => d.doc.kind === kind && d.doc.name === name);
    rest = field;
  }
  if (doc === undefined) return err;
  const pos = doc.locate?.(fieldPath(rest)) ?? { line: doc.line, col: 1 };
  const where = `${doc.file}:${pos.line}:${pos.col}`;
  const what = `${String(doc.doc.kind)}/${String(doc.doc.name)}`;
  // The index means nothing to the user: drop `documents[i]` (and a leading `.`).
  const message = err.message.replace(/documents\[\d+\]\.?/g, '').replace(/^:\s*/, '');
  return new VnpError(err.code, `${where}: ${what}: ${message}`, {
    ...err.details,
    file: doc.file,
    line: pos.line,
    column: pos.col,
  });
}
