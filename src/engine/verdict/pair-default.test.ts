import { describe, expect, it } from 'vitest';
import type { IntraDefault } from '../../model/types.js';
import {
  pairDefault,
  pairDefaultReason,
  pairDefaultVerdict,
  type PairDefault,
} from './pair-default.js';

/** Partitions of the table below: `a`, `b` say allow, `d` says deny; `gone` is unknown. */
const INTRA: Record<string, IntraDefault> = { a: 'allow', b: 'allow', d: 'deny' };
const intraOf = (p: string): IntraDefault | undefined => INTRA[p];
const STRICT = { unpartitioned: 'deny', crossPartition: 'deny' } as const;
const OPEN = { unpartitioned: 'allow', crossPartition: 'allow' } as const;
const SHIPPED = { unpartitioned: 'allow', crossPartition: 'deny' } as const;

describe('pairDefault (design.md §2 item 2)', () => {
  const cases: {
    name: string;
    src: string[];
    dst: string[];
    defaults: { unpartitioned: IntraDefault; crossPartition: IntraDefault };
    want: PairDefault;
  }[] = [
    {
      name: 'a shared allow partition allows, whatever the settings say',
      src: ['a'],
      dst: ['a'],
      defaults: STRICT,
      want: { verdict: 'allow', by: 'intra', shared: ['a'] },
    },
    {
      name: 'a shared deny partition denies, whatever the settings say',
      src: ['d'],
      dst: ['d'],
      defaults: OPEN,
      want: { verdict: 'deny', by: 'intra', shared: ['d'], denying: 'd' },
    },
    {
      name: 'several shared partitions: deny if any says deny',
      src: ['a', 'd', 'b'],
      dst: ['b', 'd', 'a'],
      defaults: OPEN,
      want: { verdict: 'deny', by: 'intra', shared: ['a', 'd', 'b'], denying: 'd' },
    },
    {
      name: 'only the shared partitions count, not the others either side is in',
      src: ['a', 'd'],
      dst: ['a'],
      defaults: STRICT,
      want: { verdict: 'allow', by: 'intra', shared: ['a'] },
    },
    {
      name: 'an unknown shared partition does not deny',
      src: ['gone'],
      dst: ['gone'],
      defaults: STRICT,
      want: { verdict: 'allow', by: 'intra', shared: ['gone'] },
    },
    {
      name: 'neither in any partition: defaults.unpartitioned (allow)',
      src: [],
      dst: [],
      defaults: SHIPPED,
      want: { verdict: 'allow', by: 'unpartitioned', shared: [] },
    },
    {
      name: 'neither in any partition: defaults.unpartitioned (deny)',
      src: [],
      dst: [],
      defaults: { unpartitioned: 'deny', crossPartition: 'allow' },
      want: { verdict: 'deny', by: 'unpartitioned', shared: [] },
    },
    {
      name: 'disjoint partitions: defaults.crossPartition',
      src: ['a'],
      dst: ['b'],
      defaults: SHIPPED,
      want: { verdict: 'deny', by: 'crossPartition', shared: [] },
    },
    {
      name: 'only the source partitioned (or an outside destination): crossPartition',
      src: ['a'],
      dst: [],
      defaults: { unpartitioned: 'deny', crossPartition: 'allow' },
      want: { verdict: 'allow', by: 'crossPartition', shared: [] },
    },
    {
      name: 'only the destination partitioned: crossPartition',
      src: [],
      dst: ['d'],
      defaults: SHIPPED,
      want: { verdict: 'deny', by: 'crossPartition', shared: [] },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(pairDefault(c.src, c.dst, intraOf, c.defaults)).toEqual(c.want);
      expect(pairDefaultVerdict(c.src, c.dst, intraOf, c.defaults)).toBe(c.want.verdict);
    });
  it('pairDefaultVerdict is pairDefault’s verdict on every pair of partition lists', () => {
    const lists = [[], ['a'], ['d'], ['gone'], ['a', 'd'], ['b', 'a'], ['d', 'gone', 'b']];
    for (const defaults of [STRICT, OPEN, SHIPPED])
      for (const src of lists)
        for (const dst of lists)
          expect(pairDefaultVerdict(src, dst, intraOf, defaults)).toBe(
            pairDefault(src, dst, intraOf, defaults).verdict,
          );
  });
});

describe('pairDefaultReason', () => {
  it('names the shared partitions and the one that denies', () => {
    expect(pairDefaultReason(pairDefault(['a', 'd'], ['d', 'a'], intraOf, OPEN))).toBe(
      'no rule matched; source and destination share partition "a", "d" and "d" has intra deny',
    );
    expect(pairDefaultReason(pairDefault(['a'], ['a'], intraOf, STRICT))).toBe(
      'no rule matched; source and destination share partition "a" (intra allow)',
    );
  });
  it('names the settings default that applied', () => {
    expect(pairDefaultReason(pairDefault([], [], intraOf, SHIPPED))).toBe(
      'no rule matched; neither endpoint is in any partition: defaults.unpartitioned is allow',
    );
    expect(pairDefaultReason(pairDefault(['a'], ['b'], intraOf, SHIPPED))).toBe(
      'no rule matched; the endpoints share no partition: defaults.crossPartition is deny',
    );
  });
});
