/**
 * Argument parsers for commander options: each throws commander's
 * InvalidArgumentError, which commander prints as one line.
 */
import { InvalidArgumentError } from 'commander';
import { PROTOCOLS, type Protocol } from '../model/types.js';
import { parseOutputFormat, type OutputFormat } from './output.js';

/**
 * An integer parser bounded to [min, max].
 *
 * @example
 *   intArg(0, 65535)('443') // 443
 */
export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer ${min}..${max}`);
    }
    return n;
  };
}

/** `--proto` values. */
export function protocolArg(value: string): Protocol {
  const p = value.trim().toLowerCase();
  if (!(PROTOCOLS as readonly string[]).includes(p)) {
    throw new InvalidArgumentError(`expected one of ${PROTOCOLS.join(', ')}`);
  }
  return p as Protocol;
}

/** `-o` values. */
export function outputArg(value: string): OutputFormat {
  try {
    return parseOutputFormat(value);
  } catch {
    throw new InvalidArgumentError('expected json, yaml or table');
  }
}

/** Repeatable option collector: `-f a -f b` → ['a', 'b']. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `vnp get -o`: a document format, a table, names, or a JSONPath template. */
export type GetOutput =
  | { format: 'table' | 'wide' | 'json' | 'yaml' | 'name' }
  | { format: 'jsonpath'; template: string };

/**
 * `-o` of `vnp get`: json, yaml, table, wide, name, or `jsonpath=TEMPLATE`
 * (kubectl's `{.items[*].name}` form).
 *
 * @example
 *   getOutputArg('jsonpath={.items[*].name}') // { format: 'jsonpath', template: '{.items[*].name}' }
 */
export function getOutputArg(value: string): GetOutput {
  const v = value.trim();
  const jp = /^jsonpath=(.+)$/s.exec(v);
  if (jp) return { format: 'jsonpath', template: jp[1]! };
  const lower = v.toLowerCase();
  if (lower === 'wide' || lower === 'name') return { format: lower };
  try {
    return { format: parseOutputFormat(lower) };
  } catch {
    throw new InvalidArgumentError('expected json, yaml, table, wide, name or jsonpath=TEMPLATE');
  }
}
