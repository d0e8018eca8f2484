/**
 * `vnp apply -f`: reading documents from files, directories (recursively, in sorted
 * order) and stdin (`-`). YAML files may hold several documents (`---`); JSON files
 * hold one document, an array of them, or `{items: [...]}` (what `vnp get -o json`
 * prints). Every error names the file, line and column.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { yaml } from './yaml.js';
import { VnpError } from '../model/errors.js';
import { KINDS } from '../model/types.js';
import { jsonSyntaxError, lineColumn } from './json-position.js';

/** A document read from a file, with where it came from (for error messages). */
export interface LoadedDocument {
  doc: Record<string, unknown>;
  file: string;
  /** 1-based line of the document's start. */
  line: number;
  /** Where a field of the document is written (YAML only): `['ingress', 0, 'from']` → line, column. */
  locate?: (path: readonly (string | number)[]) => { line: number; col: number } | undefined;
}

export interface LoadOptions {
  /** Base for relative paths and for the file names shown in errors (default: cwd). */
  cwd?: string;
  /** Reader of stdin for `-` (injected in tests). */
  readStdin?: () => string;
  /** Called after each file: files done, files total, documents so far. */
  onProgress?: (filesDone: number, filesTotal: number, documents: number) => void;
  /**
   * Foreign objects (Kubernetes manifests): keep every mapping as it is, with no
   * vnp kind or name check and no duplicate check (the importer checks them).
   */
  foreign?: boolean;
}

const DOCUMENT_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const DOC_KINDS: ReadonlySet<string> = new Set<string>([...KINDS, 'Test']);
/** Server-set metadata: meaningless on input, so `get -o yaml | apply -f -` round-trips. */
const SERVER_FIELDS = ['revision', 'createdAt', 'updatedAt'] as const;

/**
 * Read every document under the given paths, in order (directories sorted).
 *
 * @example
 *   loadDocuments(['examples/three-tier'])
 *   // → [{ doc: { kind: 'Subnet', name: 'front', ... }, file: 'examples/three-tier/00-subnets.yaml', line: 1 }, ...]
 */
export function loadDocuments(paths: readonly string[], opts: LoadOptions = {}): LoadedDocument[] {
  const cwd = opts.cwd ?? process.cwd();
  const files = paths.flatMap((p) => (p === '-' ? ['-'] : collectFiles(resolve(cwd, p), p)));
  const out: LoadedDocument[] = [];
  files.forEach((file, i) => {
    const shown = file === '-' ? '<stdin>' : relativeName(cwd, file);
    const text =
      file === '-' ? (opts.readStdin ?? (() => readFileSync(0, 'utf8')))() : readText(file, shown);
    const format = file !== '-' && extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
    out.push(...parseDocuments(text, shown, format, opts.foreign === true));
    opts.onProgress?.(i + 1, files.length, out.length);
  });
  if (opts.foreign !== true) checkDuplicates(out);
  return out;
}

function relativeName(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

function readText(file: string, shown: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new VnpError('VNP_ERR_VALIDATION', `${shown}: cannot read: ${(e as Error).message}`, {
      field: 'file',
      file: shown,
    });
  }
}

/**
 * The document files under a path: the path itself if a file, else every
 * `.yaml`/`.yml`/`.json` below it (hidden entries skipped), sorted by path.
 *
 * @example
 *   collectFiles('/abs/examples/three-tier', 'examples/three-tier') // → ['/abs/…/00-subnets.yaml', …]
 */
export function collectFiles(absPath: string, shownPath = absPath): string[] {
  let st;
  try {
    st = statSync(absPath);
  } catch {
    throw new VnpError('VNP_ERR_VALIDATION', `${shownPath}: no such file or directory`, {
      field: 'file',
      file: shownPath,
    });
  }
  if (!st.isDirectory()) return [absPath];
  const found: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      compare(a.name, b.name),
    );
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (DOCUMENT_EXTENSIONS.has(extname(e.name).toLowerCase())) found.push(full);
    }
  };
  walk(absPath);
  return found;
}

/** Code-point order: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parse the documents of one file's text.
 *
 * @example
 *   parseDocuments('kind: Subnet\nname: a\ncidr: 10.0.0.0/24\n---\nkind: Instance\nname: i\nhost: h\n', 'x.yaml', 'yaml')
 *   // → two documents, lines 1 and 5
 */
export function parseDocuments(
  text: string,
  file: string,
  format: 'yaml' | 'json',
  foreign = false,
): LoadedDocument[] {
  const raw = format === 'json' ? parseJson(text, file) : parseYaml(text, file);
  const out: LoadedDocument[] = [];
  for (const { value, line, locate } of raw) {
    const list = unwrapList(value);
    // Where item i is in the file: [i] in an array, ['items', i] in {items: [...]}.
    const base = (i: number): (string | number)[] =>
      Array.isArray(value) ? [i] : list[0] === value ? [] : ['items', i];
    for (const [i, item] of list.entries()) {
      if (foreign && !isRecord(item)) {
        throw docError(
          `${file}:${line}`,
          'expected a mapping (a Kubernetes object)',
          'kind',
          file,
          line,
        );
      }
      const doc: LoadedDocument = {
        doc: foreign ? (item as Record<string, unknown>) : checkDocument(item, file, line, i),
        file,
        line,
      };
      if (locate) doc.locate = (path) => locate([...base(i), ...path]);
      out.push(doc);
    }
  }
  return out;
}

type Parsed = { value: unknown; line: number; locate?: LoadedDocument['locate'] };

function parseYaml(text: string, file: string): Parsed[] {
  const { LineCounter, parseAllDocuments } = yaml();
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const out: Parsed[] = [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      throw positionedError(file, pos.line, pos.col, firstLine(err.message));
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    // An empty document (a trailing `---`, comments only) holds nothing to apply.
    if (value === null || value === undefined) continue;
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    const locate = (path: readonly (string | number)[]) => {
      // The deepest node of the path that exists: a missing field points at its parent.
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as
          { range?: [number, number, number] } | undefined;
        if (node?.range) return lineCounter.linePos(node.range[0]);
      }
      return undefined;
    };
    out.push({ value, line: lineCounter.linePos(start).line, locate });
  }
  return out;
}

function parseJson(text: string, file: string): Parsed[] {
  try {
    return [{ value: JSON.parse(text) as unknown, line: 1 }];
  } catch (e) {
    // JSON.parse's message rarely has a usable position: find it ourselves.
    const found = jsonSyntaxError(text);
    const { line, col } = lineColumn(text, found?.offset ?? text.length);
    throw positionedError(
      file,
      line,
      col,
      `invalid JSON: ${found?.message ?? (e as Error).message}`,
    );
  }
}

/** `{items: [...]}` and arrays hold several documents. */
function unwrapList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value) && value.kind === undefined && Array.isArray(value.items)) return value.items;
  return [value];
}

function checkDocument(
  value: unknown,
  file: string,
  line: number,
  index: number,
): Record<string, unknown> {
  const where = index > 0 ? `${file}:${line}: item ${index}` : `${file}:${line}`;
  if (!isRecord(value)) {
    throw docError(where, 'expected a mapping with kind and name', 'kind', file, line);
  }
  const kind = value.kind;
  if (typeof kind !== 'string' || kind === '')
    throw docError(where, 'missing "kind"', 'kind', file, line);
  if (!DOC_KINDS.has(kind)) {
    const near = [...DOC_KINDS].find((k) => k.toLowerCase() === kind.toLowerCase());
    const hint = near
      ? ` (did you mean ${near}?)`
      : ` (expected one of ${[...DOC_KINDS].join(', ')})`;
    throw docError(where, `unknown kind "${kind}"${hint}`, 'kind', file, line);
  }
  const doc: Record<string, unknown> = { ...value };
  for (const f of SERVER_FIELDS) delete doc[f];
  // Settings is a singleton: its one name may be left out.
  if (kind === 'Settings' && doc.name === undefined) doc.name = 'default';
  if (typeof doc.name !== 'string' || doc.name === '') {
    throw docError(where, `${kind} document is missing "name"`, 'name', file, line);
  }
  return doc;
}

function checkDuplicates(docs: readonly LoadedDocument[]): void {
  const seen = new Map<string, LoadedDocument>();
  for (const d of docs) {
    const key = `${String(d.doc.kind)}/${String(d.doc.name)}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `${d.file}:${d.line}: ${key} is defined twice (first at ${prev.file}:${prev.line})`,
        { field: 'name', file: d.file, line: d.line },
      );
    }
    seen.set(key, d);
  }
}

function positionedError(file: string, line: number, col: number, message: string): VnpError {
  return new VnpError('VNP_ERR_VALIDATION', `${file}:${line}:${col}: ${message}`, {
    file,
    line,
    column: col,
  });
}

function docError(
  where: string,
  message: string,
  field: string,
  file: string,
  line: number,
): VnpError {
  return new VnpError('VNP_ERR_VALIDATION', `${where}: ${message}`, { field, file, line });
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
