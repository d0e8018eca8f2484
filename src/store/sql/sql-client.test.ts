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

  it('is empty until a line is added, and grows past a small size hint', () => {
    expect(new CopyLines().bytes()).toHaveLength(0);
    const lines = new CopyLines(1);
    for (let i = 0; i < 300; i++) lines.add('é'.repeat(i));
    const want = Array.from({ length: 300 }, (_, i) => `${'é'.repeat(i)}\n`).join('');
    expect(Buffer.from(lines.bytes()).toString()).toBe(want);
  });
});
