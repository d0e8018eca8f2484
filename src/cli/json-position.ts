/**
 * Where a JSON text stops being valid. Node 20's JSON.parse often names no
 * position ("… is not valid JSON"), yet users need file:line:column: this small
 * validating scanner finds the offset of the first offending character.
 */

/** What went wrong, and where (0-based offset into the text). */
export interface JsonSyntaxError {
  offset: number;
  message: string;
}

class Scanner {
  i = 0;
  constructor(private readonly s: string) {}

  fail(message: string): never {
    throw { offset: this.i, message } satisfies JsonSyntaxError;
  }

  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  peek(): string | undefined {
    return this.s[this.i];
  }

  expect(ch: string, what: string): void {
    this.ws();
    if (this.peek() !== ch)
      this.fail(
        this.peek() === undefined
          ? `unexpected end, expected ${what}`
          : `expected ${what}, found ${JSON.stringify(this.peek())}`,
      );
    this.i++;
  }

  value(): void {
    this.ws();
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return;
      }
    }
    this.fail(
      c === undefined
        ? 'unexpected end, expected a value'
        : `expected a value, found ${JSON.stringify(c)}`,
    );
  }

  object(): void {
    this.i++;
    this.ws();
    if (this.peek() === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== '"')
        this.fail(`expected a "key", found ${JSON.stringify(this.peek() ?? 'end')}`);
      this.string();
      this.expect(':', '":"');
      this.value();
      this.ws();
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      this.expect('}', '"," or "}"');
      return;
    }
  }

  array(): void {
    this.i++;
    this.ws();
    if (this.peek() === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      this.expect(']', '"," or "]"');
      return;
    }
  }

  string(): void {
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') {
        const e = this.s[this.i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6)))
            this.fail('bad \\u escape');
          this.i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('bad escape');
        this.i += 2;
        continue;
      }
      if (c < ' ') this.fail('control character in string');
      this.i++;
    }
    this.fail('unterminated string');
  }

  number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    if (!m) this.fail('bad number');
    this.i += m[0].length;
  }
}

/**
 * The first syntax error of a JSON text, or undefined when it is valid.
 *
 * @example
 *   jsonSyntaxError('{"a": }') // { offset: 6, message: 'expected a value, found "}"' }
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const sc = new Scanner(text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text);
  try {
    sc.value();
    sc.ws();
    if (sc.peek() !== undefined) sc.fail(`unexpected ${JSON.stringify(sc.peek())} after the value`);
    return undefined;
  } catch (e) {
    return e as JsonSyntaxError;
  }
}

/**
 * 1-based line and column of an offset.
 *
 * @example
 *   lineColumn('a\nbc', 3) // { line: 2, col: 2 }
 */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before[before.length - 1]?.length ?? 0) + 1 };
}
