/**
 * Syntax checking of the policy editor: YAML documents parsed as `vnp apply -f` reads
 * them, each error with its line and column.
 */
import { parseAllDocuments } from 'yaml';

export interface YamlProblem {
  line: number;
  col: number;
  message: string;
}

/**
 * The documents of a YAML text, or its problems.
 *
 * @example parseYamlDocuments('kind: Policy\nname: x\n') // { documents: [{ kind: 'Policy', name: 'x' }], problems: [] }
 */
export function parseYamlDocuments(text: string): {
  documents: Record<string, unknown>[];
  problems: YamlProblem[];
} {
  const problems: YamlProblem[] = [];
  const documents: Record<string, unknown>[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      problems.push({
        line: pos?.line ?? 0,
        col: pos?.col ?? 0,
        message: e.message.split('\n')[0] ?? e.message,
      });
    }
    if (doc.errors.length > 0) return;
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      const line = doc.contents?.range ? lineOf(text, doc.contents.range[0]) : 0;
      problems.push({
        line,
        col: 1,
        message: `document ${i + 1}: a mapping (kind: …, name: …) is expected`,
      });
      return;
    }
    documents.push(value as Record<string, unknown>);
  });
  return { documents, problems };
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}
