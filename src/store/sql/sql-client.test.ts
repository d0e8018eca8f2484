import { describe, expect, it } from 'vitest';
import { CopyLines, copyText } from './sql-client.js';

describe('CopyLines', () => {
  it('holds the UTF-8 of its lines, each with a newline, across growth', () => {
    const lines = new CopyLines();
    const want: string[] = [];
    // Past the first 64 KiB several times, with 1-, 2-, 3- and 4-byte characters.
    for (let i = 0; i < 5000; i++) {
      const line = `${i}\t${copyText(`h\t${i}`)}\tä€😀${'x'.repeat(i % 97)}`;
      lines.add(line);
      want.push(`${line}\n`);
    }
    lines.add('');
    want.push('\n');
    expect(Buffer.from(lines.bytes()).equals(Buffer.from(want.join('')))).toBe(true);
  });

  it('is empty until a line is added', () => {
    expect(new CopyLines().bytes()).toHaveLength(0);
  });
});
