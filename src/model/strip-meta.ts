/**
 * Server-set metadata (design.md §1: `revision`, `createdAt`, `updatedAt`) is never
 * part of what an operator writes. Dropping it is what makes a stored document
 * comparable with a submitted one, storable in the doc column, and PUT-able back.
 */
import type { Meta } from './types.js';

/** `T` without the server-set metadata fields (distributes over unions such as Document). */
export type WithoutMeta<T> = T extends unknown ? Omit<T, keyof Meta> : never;

/**
 * A shallow copy of `doc` without `revision`, `createdAt` and `updatedAt`; every
 * other field, `kind` included, is kept. `doc` itself is not modified.
 *
 * @example
 *   stripMeta({ kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24', revision: 3 })
 *   // { kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24' }
 */
export function stripMeta<T extends object>(doc: T): WithoutMeta<T> {
  const { revision: _r, createdAt: _c, updatedAt: _u, ...rest } = doc as T & Partial<Meta>;
  return rest as WithoutMeta<T>;
}
