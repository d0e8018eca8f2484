/**
 * FlowAggregator: records of one batch spread over minutes, in UTC_ISO times of several
 * lengths and in other ISO forms, each land in their own minute.
 */
import { describe, expect, it } from 'vitest';
import { flow } from './conformance-flows.js';
import { FlowAggregator, minuteOf } from './flow-aggregator.js';

describe('FlowAggregator', () => {
  it('sums each record into the minute of its own time', () => {
    const times = [
      '2026-01-01T00:00:59.999Z',
      '2026-01-01T00:00:59.5Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:01:00Z',
      '2026-01-01T00:00:30+00:00',
      '2026-01-01T00:01:59.000Z',
      '2026-01-01T01:01:00.000Z',
      '2026-01-01T01:01:00.000Z',
    ];
    const a = new FlowAggregator();
    a.add(times.map((time) => flow({ time })));
    const counts = Object.fromEntries(a.drain().minutes.map((m) => [m.minute, m.count]));
    const want: Record<string, number> = {};
    for (const t of times) want[minuteOf(t)] = (want[minuteOf(t)] ?? 0) + 1;
    expect(counts).toEqual(want);
    expect(counts).toEqual({
      '2026-01-01T00:00:00.000Z': 3,
      '2026-01-01T00:01:00.000Z': 3,
      '2026-01-01T01:01:00.000Z': 2,
    });
  });
});
