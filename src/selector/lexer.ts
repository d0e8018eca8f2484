/**
 * On-demand tokenizer for selectors. The parser asks for the token at a position,
 * so the first error in reading order is the one reported (a bad string later in
 * the text never hides a syntax error before it).
 *
 * Characters the grammar has no use for (a lone `=`, `&`, `|`, `-`, `1.5`, `@`)
 * become `invalid` tokens: the parser, which knows what it expected there,
 * reports them. Only strings throw here (unterminated, bad escape).
 */
import { VnpError } from '../model/errors.js';

export type TokenKind = 'ident' | 'string' | 'int' | 'punct' | 'invalid' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text of the token (for `punct`, the operator itself). */
  text: string;
  /** For `string`: the decoded value. */
  value: string;
  /** Code-unit offsets into the source: [start, end). */
  start: number;
  end: number;
}

const PUNCT2 = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const PUNCT1 = new Set(['(', ')', '{', '}', '[', ']', ',', '.', '!', '<', '>']);
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t' };

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdentStart = (c: string): boolean =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string): boolean => isIdentStart(c) || isDigit(c) || c === '-';

/** 1-based column of a code-unit offset, counted in code points (what an editor shows). */
export function columnOf(text: string, offset: number): number {
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point: count it once.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    col++;
  }
  return col;
}

/** How a token is shown in "found ..." (quoted, truncated). */
export function describeToken(token: Token): string {
  if (token.kind === 'eof') return 'end of input';
  const shown = token.text.length > 24 ? token.text.slice(0, 24) + '…' : token.text;
  return JSON.stringify(shown);
}

/** The selector syntax error: `column N: expected X, found Y`, details {column, expected, found}. */
export function syntaxError(
  text: string,
  offset: number,
  expected: string,
  found: string,
): VnpError {
  const column = columnOf(text, offset);
  return new VnpError(
    'VNP_ERR_SELECTOR_SYNTAX',
    `column ${column}: expected ${expected}, found ${found}`,
    {
      column,
      expected,
      found,
    },
  );
}

/** Reads the token starting at or after `pos` (whitespace skipped). */
export function lex(text: string, pos: number): Token {
  while (pos < text.length && isSpace(text[pos]!)) pos++;
  const start = pos;
  if (pos >= text.length) return { kind: 'eof', text: '', value: '', start, end: start };
  const c = text[pos]!;
  if (isIdentStart(c)) {
    let end = pos + 1;
    while (end < text.length && isIdentPart(text[end]!)) end++;
    return tok('ident', text.slice(start, end), start, end);
  }
  if (isDigit(c) || (c === '-' && isDigit(text[pos + 1] ?? ''))) return lexNumber(text, start);
  if (c === '"' || c === "'") return lexString(text, start);
  const two = text.slice(pos, pos + 2);
  if (PUNCT2.has(two)) return tok('punct', two, start, start + 2);
  if (PUNCT1.has(c)) return tok('punct', c, start, start + 1);
  const cp = text.codePointAt(pos)!;
  const width = cp > 0xffff ? 2 : 1;
  return tok('invalid', text.slice(pos, pos + width), start, start + width);
}

function tok(kind: TokenKind, text: string, start: number, end: number): Token {
  return { kind, text: text, value: text, start, end };
}

function lexNumber(text: string, start: number): Token {
  let end = start + 1;
  while (end < text.length && isDigit(text[end]!)) end++;
  // `1.5`, `1e3`, `12abc`: not an integer; keep the whole run so the error shows it.
  if (end < text.length && (isIdentPart(text[end]!) || text[end] === '.')) {
    while (end < text.length && (isIdentPart(text[end]!) || text[end] === '.')) end++;
    return tok('invalid', text.slice(start, end), start, end);
  }
  return tok('int', text.slice(start, end), start, end);
}

function lexString(text: string, start: number): Token {
  const quote = text[start]!;
  let out = '';
  let pos = start + 1;
  while (pos < text.length) {
    const c = text[pos]!;
    if (c === quote) {
      return { kind: 'string', text: text.slice(start, pos + 1), value: out, start, end: pos + 1 };
    }
    if (c !== '\\') {
      out += c;
      pos++;
      continue;
    }
    const e = text[pos + 1];
    if (e !== undefined && e in ESCAPES) {
      out += ESCAPES[e];
      pos += 2;
    } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(pos + 2, pos + 6))) {
      out += String.fromCharCode(parseInt(text.slice(pos + 2, pos + 6), 16));
      pos += 6;
    } else {
      const bad = e === undefined ? 'end of input' : JSON.stringify(text.slice(pos, pos + 2));
      throw syntaxError(text, pos, `an escape (\\\\, \\', \\", \\n, \\t or \\uXXXX)`, bad);
    }
  }
  throw syntaxError(
    text,
    start,
    `a closing ${quote} to end the string started here`,
    'end of input',
  );
}
