/**
 * The slice of the nftables JSON schema (libnftables-json(5)) the agent emits and
 * reads. Kept loose on purpose: expressions are plain JSON the kernel validates.
 */

/** One JSON value of an nft expression, key or element. */
export type NftValue = unknown;

/** One command of a transaction: `{add: {table: ...}}`, `{delete: {...}}`, `{flush: {...}}`. */
export type NftCommand = Record<string, unknown>;

/** A document for `nft -j -f -`: one atomic transaction. */
export interface NftJson {
  nftables: NftCommand[];
}

/** The table the agent owns (design.md §4): one `inet` table named `vnp`. */
export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'vnp';

/** Number of commands in a document, ignoring `metainfo`. */
export function commandCount(doc: NftJson): number {
  return doc.nftables.filter((c) => !('metainfo' in c)).length;
}
