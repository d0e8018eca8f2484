import { describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { parseSelector } from './index.js';
import { EXPECT_KEY, EXPECT_LITERAL, EXPECT_OP, EXPECT_TERM } from './parse.js';

function syntaxErrorOf(text: string): VnpError {
  try {
    parseSelector(text);
  } catch (e) {
    expect(e).toBeInstanceOf(VnpError);
    return e as VnpError;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe('parseSelector: errors name the column, what was expected and what was found', () => {
  const cases: [text: string, column: number, expected: string | RegExp, found: string][] = [
    ['env ==', 7, EXPECT_LITERAL, 'end of input'],
    ['env = "x"', 5, EXPECT_OP, '"="'],
    ['env', 4, EXPECT_OP, 'end of input'],
    ['env "x"', 5, EXPECT_OP, '"\\"x\\""'],
    ['env == "x', 8, /closing " to end the string/, 'end of input'],
    ["env == 'x", 8, /closing ' to end the string/, 'end of input'],
    ['env == "a\\qb"', 10, /an escape/, '"\\\\q"'],
    ['env == "a\\u12"', 10, /an escape/, '"\\\\u"'],
    ['env == "a\\', 10, /an escape/, 'end of input'],
    ['team in {}', 10, EXPECT_LITERAL, '"}"'],
    ['team in {"a",}', 14, EXPECT_LITERAL, '"}"'],
    ['team in {"a" "b"}', 14, "',' or '}'", '"\\"b\\""'],
    ['team in "a"', 9, "'{' to start the set", '"\\"a\\""'],
    ['team not {"a"}', 10, "'in' after 'not'", '"{"'],
    ['team in {"a"', 13, "',' or '}'", 'end of input'],
    ['env == "x" extra', 12, "'&&', '||' or end of input", '"extra"'],
    ['env == "x")', 11, "'&&', '||' or end of input", '")"'],
    ['(env == "x"', 12, "'&&', '||' or ')'", 'end of input'],
    ['((env == "x")', 14, "'&&', '||' or ')'", 'end of input'],
    ['()', 2, EXPECT_TERM, '")"'],
    ['', 1, EXPECT_TERM, 'end of input'],
    ['   ', 4, EXPECT_TERM, 'end of input'],
    ['env == "x" &&', 14, EXPECT_TERM, 'end of input'],
    ['env == "x" ||| b', 14, EXPECT_TERM, '"|"'],
    ['env == "x" & b == 1', 12, "'&&', '||' or end of input", '"&"'],
    ['x == 9007199254740992', 6, /a safe integer/, '"9007199254740992"'],
    ['x == -9007199254740992', 6, /a safe integer/, '"-9007199254740992"'],
    ['x == 99999999999999999999999', 6, /a safe integer/, '"99999999999999999999999"'],
    ['x == 1.5', 6, EXPECT_LITERAL, '"1.5"'],
    ['x == 1e3', 6, EXPECT_LITERAL, '"1e3"'],
    ['x == - 1', 6, EXPECT_LITERAL, '"-"'],
    ['x == null', 6, EXPECT_LITERAL, '"null"'],
    ['x == TRUE', 6, EXPECT_LITERAL, '"TRUE"'],
    ['x == prod', 6, EXPECT_LITERAL, '"prod"'],
    ['x.== 1', 3, /an identifier after '\.'/, '"=="'],
    ['x.1 == 1', 3, /an identifier after '\.'/, '"1"'],
    ['x[team] == 1', 3, "a quoted string after '['", '"team"'],
    ['x["team" == 1', 10, "']'", '"=="'],
    ['[] == 1', 2, "a quoted string after '['", '"]"'],
    ['1 == 1', 1, EXPECT_TERM, '"1"'],
    ['"env" == 1', 1, EXPECT_TERM, '"\\"env\\""'],
    ['has()', 5, EXPECT_KEY, '")"'],
    ['has(x', 6, "')'", 'end of input'],
    ['has(x == 1)', 7, "')'", '"=="'],
    ['all(x)', 5, /all\(\) takes no arguments/, '"x"'],
    ['env @ 1', 5, EXPECT_OP, '"@"'],
    ['!', 2, EXPECT_TERM, 'end of input'],
    ['env == "x" && 😀 == 1', 15, EXPECT_TERM, '"😀"'],
    ['x == "😀" ) ', 10, "'&&', '||' or end of input", '")"'],
    ['a\n== 1 &&\n  ?', 13, EXPECT_TERM, '"?"'],
  ];
  it.each(cases)('%j → column %i', (text, column, expected, found) => {
    const e = syntaxErrorOf(text);
    expect(e.code).toBe('VNP_ERR_SELECTOR_SYNTAX');
    expect(e.details?.column).toBe(column);
    if (typeof expected === 'string') expect(e.details?.expected).toBe(expected);
    else expect(e.details?.expected).toMatch(expected);
    expect(e.details?.found).toBe(found);
    expect(e.message).toBe(`column ${column}: expected ${e.details?.expected}, found ${found}`);
    expect(e.status).toBe(400);
  });

  it('uses the message format of the contract', () => {
    const e = syntaxErrorOf('team in {"a", "b", }');
    expect(e.message).toBe(
      'column 20: expected a literal (string, integer, true, false), found "}"',
    );
  });

  it('limits nesting instead of overflowing the stack', () => {
    const deep = '('.repeat(10_000) + 'all()' + ')'.repeat(10_000);
    const e = syntaxErrorOf(deep);
    expect(e.details?.column).toBe(65);
    expect(e.details?.expected).toMatch(/at most 64 nested/);
    const bangs = syntaxErrorOf('!'.repeat(100_000) + 'all()');
    expect(bangs.details?.column).toBe(65);
    expect(parseSelector('('.repeat(64) + 'all()' + ')'.repeat(64))).toEqual({ type: 'all' });
  });

  it('refuses non-strings from untyped callers', () => {
    const e = syntaxErrorOf(undefined as unknown as string);
    expect(e.code).toBe('VNP_ERR_SELECTOR_SYNTAX');
    expect(e.details?.column).toBe(1);
  });

  it('reports the first error in reading order', () => {
    // the bad operator comes before the unterminated string
    expect(syntaxErrorOf('env = "x').details?.column).toBe(5);
  });
});
