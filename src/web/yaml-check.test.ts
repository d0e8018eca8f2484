import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from './yaml-check.js';

describe('the editor parses YAML as apply -f does', () => {
  it('reads every document', () => {
    const r = parseYamlDocuments('kind: Policy\nname: a\n---\nkind: Test\nname: t\n');
    expect(r.problems).toEqual([]);
    expect(r.documents.map((d) => d.name)).toEqual(['a', 't']);
  });
  it.each([
    ['kind: Policy\nname: [a\n', 3],
    ['kind: Policy\nname: a\nname: b\n', 3],
  ])('names the line of a syntax error in %j', (text, line) => {
    const r = parseYamlDocuments(text);
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0]!.line).toBe(line);
  });
  it('refuses a document that is not a mapping', () => {
    expect(parseYamlDocuments('kind: Policy\n---\n- a\n').problems[0]).toMatchObject({
      line: 3,
      message: 'document 2: a mapping (kind: …, name: …) is expected',
    });
  });
});
