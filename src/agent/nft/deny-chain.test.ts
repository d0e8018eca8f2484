/**
 * The per-rule deny counters (docs/adr/0066-per-rule-deny-counters.md): names that
 * round-trip to the deciding policy and rule, the listing parsed, and the agent's
 * totals kept monotonic across removed rules and replaced tables.
 */
import { describe, expect, it } from 'vitest';
import { byRule } from '../flows/deny-samples.js';
import { MonotonicTotals } from '../flows/flow-source.js';
import { parseDenyCounts, parseRuleDenyName, ruleDenyName } from './deny-chain.js';

const deny = (policy: string, rule: string) => ({ kind: 'deny' as const, policy, rule });

/** `nft -j list counters table inet vnp` as nft 1.0.6 prints it. */
const listing = (counters: Record<string, number>) =>
  JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      ...Object.entries(counters).map(([name, packets], handle) => ({
        counter: { family: 'inet', name, table: 'vnp', handle, packets, bytes: packets * 60 },
      })),
    ],
  });

describe('per-rule deny counters', () => {
  it('names a deny rule reversibly, and no default or other verdict', () => {
    for (const [policy, rule] of [
      ['lockdown', 'ingress[0]'],
      ['a-e0', 'egress[12]'],
      ['x.y-i3', 'ingress[7]'],
    ] as const) {
      const name = ruleDenyName(deny(policy, rule))!;
      expect(name.length).toBeLessThan(80);
      expect(parseRuleDenyName(name)).toEqual({ policy, rule });
    }
    expect(ruleDenyName(deny('', 'default'))).toBeUndefined();
    expect(ruleDenyName({ kind: 'log', policy: 'p', rule: 'egress[0]' })).toBeUndefined();
    expect(parseRuleDenyName('deny-total')).toBeUndefined();
  });

  it('reads the deny chain and rule counters from one listing', () => {
    const c = parseDenyCounts(
      listing({ 'deny-total': 10, 'deny-sampled': 4, 'dn-p-e0': 6, 'dn-q-i1': 1 }),
    );
    expect(c).toEqual({
      total: 10,
      sampled: 4,
      rules: new Map([
        ['dn-p-e0', 6],
        ['dn-q-i1', 1],
      ]),
    });
    expect(parseDenyCounts(listing({}))).toBeUndefined();
    expect(parseDenyCounts('not json')).toBeUndefined();
  });

  it('keeps per-rule totals monotonic when a rule goes and comes back, and across a new table', () => {
    const t = new MonotonicTotals();
    const read = (total: number, sampled: number, rules: Record<string, number>) =>
      t.read({ total, sampled, rules: new Map(Object.entries(rules)) });
    read(10, 2, { 'dn-p-e0': 7, 'dn-q-i1': 1 });
    // dn-q-i1's last element went (its counter with it), then came back at 0.
    read(12, 2, { 'dn-p-e0': 9 });
    let r = read(15, 3, { 'dn-p-e0': 10, 'dn-q-i1': 2 });
    expect(Object.fromEntries(r.rules)).toEqual({ 'dn-p-e0': 10, 'dn-q-i1': 3 });
    // The whole table replaced: every counter from 0.
    r = read(1, 1, { 'dn-p-e0': 1 });
    expect(r).toMatchObject({ sampled: 4, unsampled: 12 });
    expect(Object.fromEntries(r.rules)).toEqual({ 'dn-p-e0': 11, 'dn-q-i1': 3 });
    // What the rules do not account for is the defaults'.
    expect(byRule(r, r.rules)).toEqual([
      { policy: '', rule: 'default', packets: 2 },
      { policy: 'p', rule: 'egress[0]', packets: 11 },
      { policy: 'q', rule: 'ingress[1]', packets: 3 },
    ]);
  });
});
