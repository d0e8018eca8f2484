/**
 * The `yaml` library, loaded on first use. It is the CLI's largest dependency and
 * most runs (`--version`, `--help`, tables, `-o json`) never touch YAML, so the
 * modules that format or read YAML ask for it here instead of importing it.
 * Synchronous (CommonJS `require` of the package's Node build), so callers stay
 * synchronous.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

/**
 * The yaml module.
 *
 * @example
 *   yaml().stringify({ a: 1 }) // 'a: 1\n'
 */
export function yaml(): typeof Yaml {
  loaded ??= require('yaml') as typeof Yaml;
  return loaded;
}
