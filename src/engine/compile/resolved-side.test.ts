/**
 * A side's peer tables: one per set of matching rules, not one per peer — a new
 * identity joining a selector that many sides use as a rule peer must not paint a
 * table in each of them (issue #11, docs/adr/0069).
 */
import { describe, expect, it } from 'vitest';
import type { CompiledRule } from './compiled-rule.js';
import { ResolvedSide } from './resolved-side.js';

/** Two selector rules on different ports; `members` is each rule's peer set. */
function side(members: Set<number>[]): ResolvedSide {
  const rules = members.map(
    (_, i) =>
      ({
        peer: { kind: 'selector' },
        spans: [{ proto: 0, lo: 80 + i, hi: 80 + i }],
      }) as unknown as CompiledRule,
  );
  return new ResolvedSide(1, 'ingress', rules, [], (r) => members[rules.indexOf(r)]);
}

describe('resolved side peer tables', () => {
  it('peers matching the same rules share one table; other rule sets get their own', () => {
    const dev = new Set([10, 11]);
    const web = new Set([11, 12]);
    const s = side([dev, web]);
    expect(s.peerTable(10).lookup(0, 80)).toBe(0);
    dev.add(13);
    s.dropPeer(13);
    expect(s.peerTable(13)).toBe(s.peerTable(10));
    expect(s.peerTable(11)).not.toBe(s.peerTable(10));
    expect(s.peerTable(11).lookup(0, 81)).toBe(1);
    expect(s.peerTable(12).lookup(0, 80)).toBe(-1);
    expect(s.peerTable(99)).toBe(s.anyTable);
  });
});
