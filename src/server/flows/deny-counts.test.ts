/**
 * The manager's view of the agents' exact deny counts (docs/adr/0066): increases per
 * host (an agent's restart counts anew), the first report a baseline for the window,
 * per-minute sums over a window, and minutes older than the retention age dropped.
 */
import { describe, expect, it } from 'vitest';
import { DenyCounts } from './deny-counts.js';

const d = (policy: string, rule: string, packets: number) => ({ policy, rule, packets });

describe('DenyCounts', () => {
  it('turns monotonic reports into increases per host, for the metric and the window', () => {
    let now = Date.parse('2026-12-07T10:00:30Z');
    const counts = new DenyCounts(() => now, 3_600_000);
    const deltas: string[] = [];
    counts.onDelta((policy, rule, n) => deltas.push(`${policy}/${rule}+${n}`));
    // h1's first report: an increase for the metric, a baseline for the window.
    counts.report('h1', [d('', 'default', 5), d('p', 'egress[0]', 100)]);
    expect(counts.reports('h1')).toBe(true);
    expect(counts.reports('h2')).toBe(false);
    expect(counts.window(0)).toEqual([]);
    counts.report('h1', [d('', 'default', 5), d('p', 'egress[0]', 130)]);
    now += 60_000;
    counts.report('h2', [d('p', 'egress[0]', 7)]);
    counts.report('h2', [d('p', 'egress[0]', 9), d('q', 'ingress[1]', 4)]);
    // h1 restarted: it counts from 0 again.
    counts.report('h1', [d('p', 'egress[0]', 3)]);
    expect(deltas).toEqual([
      '/default+5',
      'p/egress[0]+100',
      'p/egress[0]+30',
      'p/egress[0]+7',
      'p/egress[0]+2',
      'q/ingress[1]+4',
      'p/egress[0]+3',
    ]);
    expect(counts.window(0)).toEqual([d('p', 'egress[0]', 35), d('q', 'ingress[1]', 4)]);
    // Only the second minute.
    expect(counts.window(Date.parse('2026-12-07T10:01:00Z'))).toEqual([
      d('p', 'egress[0]', 5),
      d('q', 'ingress[1]', 4),
    ]);
    expect(counts.window(0, Date.parse('2026-12-07T10:01:00Z'))).toEqual([d('p', 'egress[0]', 30)]);
    // Past the retention age, the minutes go.
    now += 2 * 3_600_000;
    counts.report('h2', [d('p', 'egress[0]', 10), d('q', 'ingress[1]', 4)]);
    expect(counts.window(0)).toEqual([d('p', 'egress[0]', 1)]);
  });
});
