import { describe, expect, it } from 'vitest';
import { ProgressBar, formatBar } from './progress.js';

describe('formatBar', () => {
  it('fills proportionally and clamps', () => {
    expect(formatBar('up', 5, 10, 10)).toBe('up [#####     ]  50%');
    expect(formatBar('up', 20, 10, 4)).toBe('up [####] 100%');
    expect(formatBar('up', 0, 0, 4)).toBe('up [####] 100%');
  });
});

describe('ProgressBar', () => {
  it('writes nothing when the stream is not a TTY', () => {
    let out = '';
    const bar = new ProgressBar({ write: (s: string) => (out += s) }, 'x');
    bar.update(1, 2);
    bar.done('finished');
    expect(out).toBe('');
  });

  it('redraws in place on a TTY and clears at the end', () => {
    let out = '';
    const bar = new ProgressBar({ isTTY: true, write: (s: string) => (out += s) }, 'parsing', 4);
    bar.update(2, 2, ' 2 documents');
    bar.done('done');
    expect(out).toBe('\r\x1b[Kparsing [####] 100% 2 documents\r\x1b[Kdone\n');
  });
});
