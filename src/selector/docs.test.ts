import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSelector } from './index.js';

// docs/selectors.md promises these messages and matches: keep the page honest.
const doc = readFileSync(new URL('../../docs/selectors.md', import.meta.url), 'utf8');
const rows = (header: string): [string, string][] => {
  const section = doc.split(header)[1]!.split('\n## ')[0]!;
  return [...section.matchAll(/^\| `(.+?)` +\| (.+?) *\|$/gm)].map((m) => [
    m[1]!.replace(/\\\|/g, '|'),
    m[2]!.replace(/\\\|/g, '|'),
  ]);
};

describe('docs/selectors.md', () => {
  const errors = rows('## Errors');
  it('lists error examples', () => expect(errors.length).toBeGreaterThan(5));
  it.each(errors)('error for %s', (input, message) => {
    expect(() => parseSelector(input)).toThrow(message.replace(/^`|`$/g, ''));
  });

  const examples = rows('## Examples');
  it('lists examples', () => expect(examples.length).toBeGreaterThan(5));
  it.each(examples)('example %s parses', (input) => {
    expect(() => parseSelector(input)).not.toThrow();
  });
});
