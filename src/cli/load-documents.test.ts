import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { collectFiles, loadDocuments, parseDocuments } from './load-documents.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnp-load-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  const full = join(dir, rel);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, text);
}

function errorOf(f: () => unknown): VnpError {
  try {
    f();
  } catch (e) {
    if (e instanceof VnpError) return e;
    throw e;
  }
  throw new Error('expected a VnpError');
}

describe('parseDocuments', () => {
  it('reads multi-document YAML with the line each document starts on', () => {
    const docs = parseDocuments(
      'kind: Subnet\nname: a\ncidr: 10.0.0.0/24\n---\n# comment\nkind: Instance\nname: i\nhost: h\n---\n',
      'x.yaml',
      'yaml',
    );
    expect(docs.map((d) => [d.doc.kind, d.doc.name, d.line])).toEqual([
      ['Subnet', 'a', 1],
      ['Instance', 'i', 6],
    ]);
  });

  it('keeps typed values: integers, booleans, JSON objects', () => {
    const [d] = parseDocuments(
      'kind: Interface\nname: w\nsubnet: s\nips: [10.0.0.2]\ntags: {tier: 2, pci: true, owner: {team: pay}, v: "2"}\n',
      'x.yaml',
      'yaml',
    );
    expect(d!.doc.tags).toEqual({ tier: 2, pci: true, owner: { team: 'pay' }, v: '2' });
  });

  it('names file, line and column of a YAML syntax error', () => {
    const e = errorOf(() =>
      parseDocuments('kind: Subnet\nname: a\n  cidr: [10.0.0.0/24\n', 'bad.yaml', 'yaml'),
    );
    expect(e.code).toBe('VNP_ERR_VALIDATION');
    expect(e.message).toMatch(/^bad\.yaml:\d+:\d+: /);
    expect(e.details?.line).toBeGreaterThanOrEqual(2);
    expect(e.details?.column).toBeGreaterThanOrEqual(1);
    expect(e.message).not.toContain('\n');
  });

  it('positions an unterminated quote at or after its line', () => {
    const e = errorOf(() => parseDocuments('kind: Subnet\nname: a\ncidr: "x\n', 'q.yaml', 'yaml'));
    expect(e.message).toMatch(/^q\.yaml:[34]:\d+: .*quote/);
  });

  it('rejects duplicate keys in one mapping', () => {
    const e = errorOf(() => parseDocuments('kind: Subnet\nname: a\nname: b\n', 'd.yaml', 'yaml'));
    expect(e.message).toMatch(/^d\.yaml:3:1: .*unique/i);
  });

  it('names file, line and column of a JSON syntax error', () => {
    const e = errorOf(() =>
      parseDocuments('{\n  "kind": "Subnet",\n  "name": }\n', 'bad.json', 'json'),
    );
    expect(e.message).toBe('bad.json:3:11: invalid JSON: expected a value, found "}"');
    expect(e.details).toMatchObject({ file: 'bad.json', line: 3 });
  });

  it('reads a JSON document, an array, or {items}', () => {
    const one = { kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24' };
    const two = { kind: 'Subnet', name: 'b', cidr: '10.0.1.0/24' };
    expect(parseDocuments(JSON.stringify(one), 'a.json', 'json')).toHaveLength(1);
    expect(parseDocuments(JSON.stringify([one, two]), 'a.json', 'json')).toHaveLength(2);
    expect(parseDocuments(JSON.stringify({ items: [one, two] }), 'a.json', 'json')).toHaveLength(2);
  });

  it('requires kind and name, and knows the kinds', () => {
    expect(errorOf(() => parseDocuments('name: a\n', 'f.yaml', 'yaml')).message).toBe(
      'f.yaml:1: missing "kind"',
    );
    expect(errorOf(() => parseDocuments('kind: Subnet\ncidr: x\n', 'f.yaml', 'yaml')).message).toBe(
      'f.yaml:1: Subnet document is missing "name"',
    );
    expect(
      errorOf(() => parseDocuments('kind: subnet\nname: a\n', 'f.yaml', 'yaml')).message,
    ).toContain('did you mean Subnet?');
    expect(errorOf(() => parseDocuments('- 1\n- 2\n', 'f.yaml', 'yaml')).message).toContain(
      'expected a mapping',
    );
  });

  it('accepts kind: Test documents and a Settings document without a name', () => {
    const docs = parseDocuments(
      'kind: Test\nname: t\nsrc: a\ndst: b\nexpect: allow\n---\nkind: Settings\ndefaults: {unpartitioned: allow}\n',
      'f.yaml',
      'yaml',
    );
    expect(docs.map((d) => d.doc.name)).toEqual(['t', 'default']);
  });

  it('drops server-set metadata so get -o yaml output applies back', () => {
    const [d] = parseDocuments(
      'kind: Subnet\nname: a\ncidr: 10.0.0.0/24\nrevision: 7\ncreatedAt: x\nupdatedAt: y\n',
      'f.yaml',
      'yaml',
    );
    expect(d!.doc).toEqual({ kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24' });
  });
});

describe('loadDocuments', () => {
  it('walks directories recursively in sorted order, skipping hidden entries and other files', () => {
    write('b/20.yaml', 'kind: Subnet\nname: b20\ncidr: 10.0.2.0/24\n');
    write('a.yml', 'kind: Subnet\nname: a\ncidr: 10.0.0.0/24\n');
    write('b/10.json', '{"kind":"Subnet","name":"b10","cidr":"10.0.1.0/24"}');
    write('c/.hidden.yaml', 'kind: Subnet\nname: hidden\ncidr: 10.0.9.0/24\n');
    write('.git/x.yaml', 'kind: Subnet\nname: git\ncidr: 10.0.8.0/24\n');
    write('README.md', '# not a document');
    const docs = loadDocuments([dir], { cwd: dir });
    expect(docs.map((d) => d.doc.name)).toEqual(['a', 'b10', 'b20']);
    expect(docs.map((d) => d.file)).toEqual(['a.yml', 'b/10.json', 'b/20.yaml']);
  });

  it('takes several paths in order, and - for stdin', () => {
    write('x.yaml', 'kind: Subnet\nname: x\ncidr: 10.0.0.0/24\n');
    const docs = loadDocuments(['-', 'x.yaml'], {
      cwd: dir,
      readStdin: () => 'kind: Instance\nname: i\nhost: h\n',
    });
    expect(docs.map((d) => [d.file, d.doc.name])).toEqual([
      ['<stdin>', 'i'],
      ['x.yaml', 'x'],
    ]);
  });

  it('names a missing path', () => {
    expect(() => loadDocuments(['nope.yaml'], { cwd: dir })).toThrow(
      'nope.yaml: no such file or directory',
    );
  });

  it('refuses the same kind/name twice, naming both places', () => {
    write('a.yaml', 'kind: Subnet\nname: s\ncidr: 10.0.0.0/24\n');
    write('b.yaml', '# x\n\nkind: Subnet\nname: s\ncidr: 10.0.1.0/24\n');
    expect(() => loadDocuments([dir], { cwd: dir })).toThrow(
      'b.yaml:3: Subnet/s is defined twice (first at a.yaml:1)',
    );
  });

  it('reports progress per file', () => {
    write(
      'a.yaml',
      'kind: Subnet\nname: a\ncidr: 10.0.0.0/24\n---\nkind: Subnet\nname: b\ncidr: 10.0.1.0/24\n',
    );
    write('b.yaml', 'kind: Subnet\nname: c\ncidr: 10.0.2.0/24\n');
    const seen: [number, number, number][] = [];
    loadDocuments([dir], { cwd: dir, onProgress: (a, b, c) => seen.push([a, b, c]) });
    expect(seen).toEqual([
      [1, 2, 2],
      [2, 2, 3],
    ]);
  });

  it('collectFiles returns a plain file as itself', () => {
    write('f.txt', 'x');
    expect(collectFiles(join(dir, 'f.txt'))).toEqual([join(dir, 'f.txt')]);
  });

  it('loads the three-tier example', () => {
    const docs = loadDocuments(['examples/three-tier']);
    const kinds = new Set(docs.map((d) => d.doc.kind));
    expect([...kinds].sort()).toEqual([
      'Instance',
      'Interface',
      'Partition',
      'Policy',
      'Reaction',
      'Settings',
      'Subnet',
      'Test',
    ]);
  });
});
