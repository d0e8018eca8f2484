import { describe, expect, it } from 'vitest';
import { CommitListeners } from './commit-listeners.js';

describe('CommitListeners', () => {
  it('reports strictly increasing revisions to every listener', () => {
    const l = new CommitListeners();
    const a: number[] = [];
    const b: number[] = [];
    l.add((r) => a.push(r));
    const offB = l.add((r) => b.push(r));
    for (const r of [1, 3, 2, 3, 4]) l.report(r);
    offB();
    l.report(5);
    expect(a).toEqual([1, 3, 4, 5]);
    expect(b).toEqual([1, 3, 4]);
    expect(l.size).toBe(1);
  });

  it('keeps reporting when a listener throws', () => {
    const l = new CommitListeners();
    const heard: number[] = [];
    l.add(() => {
      throw new Error('bug');
    });
    l.add((r) => heard.push(r));
    l.report(1);
    expect(heard).toEqual([1]);
  });
});
