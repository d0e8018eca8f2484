/**
 * What the collector ships with its batches: the per-rule deny counts (one per deny
 * rule on the host) only when they changed, and again every 10 s — not with every batch.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FlowBatch } from '../../model/flow.js';
import { FlowCollector } from './flow-collector.js';

afterEach(() => vi.useRealTimers());

describe('FlowCollector batches', () => {
  it('sends the per-rule deny counts when they change and every 10 s, not with every batch', async () => {
    vi.useFakeTimers({ now: 0 });
    const sent: FlowBatch[] = [];
    const c = new FlowCollector({
      exec: async () => ({ code: 1, stdout: '', stderr: '' }),
      state: () => undefined,
      send: async (b) => (sent.push(b), true),
    });
    const send = () => (c as unknown as { send(): Promise<boolean> }).send();
    const denied = [{ policy: 'p', rule: 'egress[0]', packets: 3 }];
    c.counters.denied = denied;
    c.counters.seen = 1;
    await send();
    c.counters.seen = 2;
    await send();
    c.counters.denied = [{ ...denied[0]!, packets: 4 }];
    await send();
    c.counters.seen = 3;
    vi.setSystemTime(10_000);
    await send();
    expect(sent.map((b) => b.counters?.denied?.[0]?.packets)).toEqual([3, undefined, 4, 4]);
    expect(sent.map((b) => b.counters?.seen)).toEqual([1, 2, 2, 3]);
  });
});
