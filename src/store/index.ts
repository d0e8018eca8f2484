/**
 * The store (design.md §5): one interface, two backends (`pglite/`, `postgres/`) over
 * one schema and one set of queries (`sql/`). Code outside src/store/ imports the store
 * only through this file.
 *
 * @example
 *   import { openStore } from './store/index.js';
 *   const store = await openStore({ dataDir: '.vnp' });
 */
export { openStore, pgliteDir, type StoreSettings } from './open-store.js';
export { lateStore, type LateStore } from './late-store.js';
export type * from './types.js';
export { FlowAggregator } from './flow-aggregator.js';
export {
  entryHash,
  GENESIS_HASH,
  verifyChain,
  type ChainedRecord,
  type ChainState,
} from './audit-chain.js';
