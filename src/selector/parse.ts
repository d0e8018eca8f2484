/**
 * Recursive-descent parser for the selector grammar of design.md §1:
 *
 *   expr    := or
 *   or      := and ( "||" and )*
 *   and     := unary ( "&&" unary )*
 *   unary   := "!" unary | "(" expr ")" | test
 *   test    := "all()" | "has(" path ")" | path op literal
 *            | path "in" "{" literal ("," literal)* "}" | path "not in" "{" ... "}"
 *   path    := key ( "." ident | "[" string "]" )*
 *   key     := ident | "[" string "]"
 *   literal := string | integer | true | false
 *
 * `all` and `has` are keywords only when followed by `(`; `in`, `not`, `true`,
 * `false` only where the grammar expects them, so every identifier can still be
 * a tag key (`all == 1`, `has(in)`).
 */
import type { CmpOp, Literal, Path, Selector } from './ast.js';
import { MAX_SELECTOR_DEPTH } from './ast.js';
import { describeValue } from '../model/errors.js';
import { describeToken, lex, syntaxError, type Token } from './lexer.js';

const CMP_OPS = new Set<string>(['==', '!=', '<', '<=', '>', '>=']);

export const EXPECT_TERM = "a test (all(), has(path), or a tag path and an operator), '!' or '('";
export const EXPECT_OP = "a comparison operator (==, !=, <, <=, >, >=), 'in' or 'not in'";
export const EXPECT_LITERAL = 'a literal (string, integer, true, false)';
export const EXPECT_KEY = 'a tag key (an identifier or ["quoted key"])';

class Parser {
  private tok: Token;

  constructor(private readonly text: string) {
    this.tok = lex(text, 0);
  }

  parse(): Selector {
    const e = this.or(0);
    if (this.tok.kind !== 'eof') this.fail("'&&', '||' or end of input");
    return e;
  }

  private advance(): Token {
    const token = this.tok;
    this.tok = lex(this.text, token.end);
    return token;
  }

  private fail(expected: string, at: Token = this.tok): never {
    throw syntaxError(this.text, at.start, expected, describeToken(at));
  }

  private isPunct(p: string): boolean {
    return this.tok.kind === 'punct' && this.tok.text === p;
  }

  private expectPunct(p: string, expected: string): void {
    if (!this.isPunct(p)) this.fail(expected);
    this.advance();
  }

  private or(depth: number): Selector {
    const exprs = [this.and(depth)];
    while (this.isPunct('||')) {
      this.advance();
      exprs.push(this.and(depth));
    }
    return exprs.length === 1 ? exprs[0]! : { type: 'or', exprs: flatten('or', exprs) };
  }

  private and(depth: number): Selector {
    const exprs = [this.unary(depth)];
    while (this.isPunct('&&')) {
      this.advance();
      exprs.push(this.unary(depth));
    }
    return exprs.length === 1 ? exprs[0]! : { type: 'and', exprs: flatten('and', exprs) };
  }

  private unary(depth: number): Selector {
    if (this.isPunct('!') || this.isPunct('(')) {
      if (depth >= MAX_SELECTOR_DEPTH) {
        this.fail(`at most ${MAX_SELECTOR_DEPTH} nested '!' and '(' (simplify the selector)`);
      }
      if (this.advance().text === '!') return { type: 'not', expr: this.unary(depth + 1) };
      const e = this.or(depth + 1);
      this.expectPunct(')', "'&&', '||' or ')'");
      return e;
    }
    if (this.tok.kind === 'ident' && (this.tok.text === 'all' || this.tok.text === 'has')) {
      const next = lex(this.text, this.tok.end);
      if (next.kind === 'punct' && next.text === '(') {
        const kw = this.advance().text;
        this.advance();
        if (kw === 'all') {
          this.expectPunct(')', "')' (all() takes no arguments)");
          return { type: 'all' };
        }
        const path = this.path();
        this.expectPunct(')', "')'");
        return { type: 'has', path };
      }
    }
    if (this.tok.kind !== 'ident' && !this.isPunct('[')) this.fail(EXPECT_TERM);
    return this.test();
  }

  private test(): Selector {
    const path = this.path();
    const token = this.tok;
    if (token.kind === 'punct' && CMP_OPS.has(token.text)) {
      this.advance();
      return { type: 'cmp', path, op: token.text as CmpOp, value: this.literal() };
    }
    if (token.kind === 'ident' && token.text === 'in') {
      this.advance();
      return { type: 'in', path, values: this.set(), negated: false };
    }
    if (token.kind === 'ident' && token.text === 'not') {
      this.advance();
      if (this.tok.kind !== 'ident' || this.tok.text !== 'in') this.fail("'in' after 'not'");
      this.advance();
      return { type: 'in', path, values: this.set(), negated: true };
    }
    return this.fail(EXPECT_OP);
  }

  private path(): Path {
    const path: string[] = [];
    if (this.tok.kind === 'ident') path.push(this.advance().text);
    else if (this.isPunct('[')) path.push(this.bracket());
    else this.fail(EXPECT_KEY);
    for (;;) {
      if (this.isPunct('.')) {
        this.advance();
        if (this.tok.kind !== 'ident') this.fail('an identifier after \'.\' (or use ["quoted"])');
        path.push(this.advance().text);
      } else if (this.isPunct('[')) {
        path.push(this.bracket());
      } else {
        return path;
      }
    }
  }

  private bracket(): string {
    this.advance();
    if (this.tok.kind !== 'string') this.fail("a quoted string after '['");
    const value = this.advance().value;
    this.expectPunct(']', "']'");
    return value;
  }

  private set(): Literal[] {
    this.expectPunct('{', "'{' to start the set");
    const values = [this.literal()];
    while (this.isPunct(',')) {
      this.advance();
      values.push(this.literal());
    }
    this.expectPunct('}', "',' or '}'");
    return values;
  }

  private literal(): Literal {
    const token = this.tok;
    if (token.kind === 'string') return this.advance().value;
    if (token.kind === 'ident' && (token.text === 'true' || token.text === 'false')) {
      return this.advance().text === 'true';
    }
    if (token.kind === 'int') {
      const n = Number(token.text);
      if (!Number.isSafeInteger(n)) {
        this.fail('a safe integer (magnitude at most 9007199254740991)');
      }
      this.advance();
      return n === 0 ? 0 : n; // -0 → 0: one canonical zero
    }
    return this.fail(EXPECT_LITERAL);
  }
}

/** Splices same-type children (from parentheses) so and/or stay flat. */
function flatten(type: 'and' | 'or', exprs: Selector[]): Selector[] {
  const out: Selector[] = [];
  for (const e of exprs) {
    if (e.type === type) out.push(...e.exprs);
    else out.push(e);
  }
  return out;
}

/**
 * Parses selector text into an AST; throws `VnpError('VNP_ERR_SELECTOR_SYNTAX')`
 * whose details carry the 1-based `column`, what was `expected` and what was `found`.
 *
 * @example
 *   parseSelector('env == "prod" && !has(quarantine)')
 *   // { type: 'and', exprs: [{ type: 'cmp', path: ['env'], op: '==', value: 'prod' },
 *   //   { type: 'not', expr: { type: 'has', path: ['quarantine'] } }] }
 */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') {
    throw syntaxError('', 0, 'selector text (a string)', describeValue(text));
  }
  return new Parser(text).parse();
}
