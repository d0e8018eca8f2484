/**
 * The audit chain's verification state: what the store's `verifyChain` folds over the
 * change log, and the body of `GET /v1/audit/verify` (with `ok` and `expectedHeadFound`).
 */
export interface ChainState {
  /** Entries whose hash and link were checked (chained ones). */
  checked: number;
  /** Entries older than the chain (no hash, written before migration 8), all before the first chained one. */
  unchained: number;
  first?: number;
  last?: number;
  /** The hash of the last entry: keep it elsewhere to detect a truncated tail later. */
  head?: string;
  /** The first broken entry, if any. */
  broken?: { revision: number; reason: string };
}
