/**
 * The flows benchmark's ingest fails loudly when the store loses records: a failed
 * write is reported by the hub through onError (the manager's path), and the run
 * rejects with the counts instead of printing a records/s figure for work not done.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord, StoredFlow } from '../src/model/flow.js';
import type { FlowStore } from '../src/store/types.js';
import { ingestFlows } from './flows.js';

/** A flow store that keeps a count, and fails the `failAt`-th write (fault injection). */
function countingStore(failAt?: number): FlowStore & { rows: number } {
  let writes = 0;
  const store = {
    rows: 0,
    async insertFlows(records: readonly FlowRecord[]): Promise<StoredFlow[]> {
      if (++writes === failAt) throw new Error('disk full');
      const first = store.rows;
      store.rows += records.length;
      return records.map((r, i) => ({ id: first + i + 1, ...r }));
    },
    addFlowAggregates: async () => undefined,
    listFlows: async () => [],
    flowSummary: async () => [],
    flowTuples: async () => [],
    pruneFlows: async () => 0,
  };
  return store;
}

describe('flows bench ingest', () => {
  it('returns a rate when every record was stored', async () => {
    const store = countingStore();
    expect(await ingestFlows(store, 3000)).toBeGreaterThan(0);
    expect(store.rows).toBe(3000);
  });

  it('rejects, counting the lost records and naming the error, when a write fails', async () => {
    await expect(ingestFlows(countingStore(1), 3000)).rejects.toThrow(
      /stored \d+ of 3000 records \([1-9]\d* failed, 0 refused, 1 errors; first: storing flow records: Error: disk full\)/,
    );
  });
});
