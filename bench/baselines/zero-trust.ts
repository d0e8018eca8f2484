/**
 * Cedar and Casbin have no notion of §2's defaults (partitions, `intra`, unpartitioned):
 * both deny what no rule permits. Their translations are therefore only faithful when
 * every default of the model is deny; this guard refuses any other model loudly.
 */
import type { Document } from '../../src/model/types.js';

/**
 * Throws unless every §2 default of the model is deny (settings and every partition's `intra`).
 *
 * @example
 *   assertZeroTrust(generateModel({ policies: 10, records: 100 }).documents);
 */
export function assertZeroTrust(docs: readonly Document[], who: string): void {
  const settings = docs.find((d) => d.kind === 'Settings');
  const defaults = settings?.kind === 'Settings' ? settings.defaults : undefined;
  if (defaults?.unpartitioned !== 'deny' || defaults.crossPartition !== 'deny') {
    throw new Error(
      `${who}: the translation needs defaults.unpartitioned and crossPartition = deny`,
    );
  }
  for (const d of docs) {
    if (d.kind === 'Partition' && d.intra !== 'deny') {
      throw new Error(`${who}: the translation needs intra: deny on partition ${d.name}`);
    }
  }
}
