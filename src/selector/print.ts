/**
 * Canonical printing: one text per AST, so `print(parse(t))` is a cache key and
 * `parse(print(ast))` deep-equals `ast` for every AST that keeps the invariants
 * of ast.ts. Strings are double-quoted; keys and segments that are identifiers
 * print bare (`owner.team`), others bracketed (`["app.kubernetes.io/name"]`).
 */
import type { Literal, Path, Selector } from './ast.js';
import { IDENT_RE } from './ast.js';

/**
 * Quotes a string with the selector escapes (`\\ \" \n \t \uXXXX`); control
 * characters, line separators and lone surrogates are written as `\uXXXX` so the
 * text is safe in JSON, YAML and terminals.
 *
 * @example quoteString('a"b') // '"a\\"b"'
 */
export function quoteString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) out += hex(c);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += hex(c);
    } else if (c >= 0xdc00 && c <= 0xdfff) out += hex(c);
    else out += s[i]!;
  }
  return out + '"';
}

function hex(c: number): string {
  return '\\u' + c.toString(16).padStart(4, '0');
}

/** Prints a path: `owner.team`, `["app.kubernetes.io/name"]`, `owner["cost center"]`. */
export function printPath(path: Path): string {
  let out = '';
  path.forEach((p, i) => {
    if (IDENT_RE.test(p)) out += i === 0 ? p : '.' + p;
    else out += `[${quoteString(p)}]`;
  });
  return out;
}

/** Prints a literal: `"prod"`, `2`, `true`. */
export function printLiteral(v: Literal): string {
  return typeof v === 'string' ? quoteString(v) : String(v);
}

/**
 * Canonical text of a selector.
 *
 * @example printSelector(parseSelector("env=='prod'&&tier>=2")) // 'env == "prod" && tier >= 2'
 */
export function printSelector(selector: Selector): string {
  switch (selector.type) {
    case 'all':
      return 'all()';
    case 'has':
      return `has(${printPath(selector.path)})`;
    case 'cmp':
      return `${printPath(selector.path)} ${selector.op} ${printLiteral(selector.value)}`;
    case 'in':
      return `${printPath(selector.path)} ${selector.negated ? 'not in' : 'in'} {${selector.values.map(printLiteral).join(', ')}}`;
    case 'not': {
      const inner = printSelector(selector.expr);
      const bare =
        selector.expr.type === 'all' ||
        selector.expr.type === 'has' ||
        selector.expr.type === 'not';
      return bare ? `!${inner}` : `!(${inner})`;
    }
    case 'and':
      return selector.exprs
        .map((e) =>
          e.type === 'or' || e.type === 'and' ? `(${printSelector(e)})` : printSelector(e),
        )
        .join(' && ');
    case 'or':
      return selector.exprs
        .map((e) => (e.type === 'or' ? `(${printSelector(e)})` : printSelector(e)))
        .join(' || ');
  }
}
