/**
 * The flow batch check (docs/flows.md): its fast paths for what agents send — a time in
 * the canonical form, canonical IPv4 text — give exactly what the general path gives
 * (Date, parseIp/formatIp), and everything else still goes through the general path.
 */
import { describe, expect, it } from 'vitest';
import type { VnpError } from './errors.js';
import { checkFlowBatch, checkFlowRecord } from './flow-validate.js';
import { formatIp, parseIp } from './net.js';

const base = {
  time: '2026-01-01T00:00:00.000Z',
  host: 'h1',
  src: { address: '10.0.0.5', port: 40000, record: 'web-1', identity: 300, partitions: [] },
  dst: { address: '10.0.1.7', port: 5432, identity: 301, partitions: [] },
  protocol: 'tcp',
  port: 5432,
  verdict: 'allow',
  egress: { verdict: 'allow', policy: 'web', rule: 'egress[0]' },
  state: 'new',
};
const check = (over: Record<string, unknown>) => checkFlowRecord({ ...base, ...over }, 'r', 'h1');

/** What the general path made of a time: Date's canonical text, or a refusal. */
function viaDate(t: string): string | 'refused' {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 'refused' : new Date(ms).toISOString();
}

/** A small deterministic generator (tests must repeat). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('checkFlowRecord', () => {
  it('takes canonical times as Date would, edge days and leap years included', () => {
    const rnd = lcg(7);
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const times = [
      '2024-02-29',
      '2023-02-29',
      '1900-02-29',
      '2000-02-29',
      '2026-04-31',
      '2026-12-31',
    ].map((d) => `${d}T23:59:59.999Z`);
    for (let i = 0; i < 3000; i++)
      times.push(
        `${pad(1900 + Math.floor(rnd() * 300), 4)}-${pad(1 + Math.floor(rnd() * 13), 2)}-${pad(Math.floor(rnd() * 33), 2)}T${pad(Math.floor(rnd() * 25), 2)}:${pad(Math.floor(rnd() * 61), 2)}:${pad(Math.floor(rnd() * 61), 2)}.${pad(Math.floor(rnd() * 1000), 3)}Z`,
      );
    for (const t of times) {
      let got: string;
      try {
        got = check({ time: t }).time;
      } catch {
        got = 'refused';
      }
      expect(got, t).toBe(viaDate(t));
    }
    // Other forms still normalise through Date.
    expect(check({ time: '2026-01-01T00:00:00Z' }).time).toBe('2026-01-01T00:00:00.000Z');
    expect(check({ time: '2026-01-01T00:00:00.1234Z' }).time).toBe('2026-01-01T00:00:00.123Z');
  });

  it('takes canonical IPv4 text as it is and normalises every other address', () => {
    const rnd = lcg(11);
    const octet = () =>
      [String(Math.floor(rnd() * 300)), `0${Math.floor(rnd() * 10)}`][rnd() < 0.9 ? 0 : 1]!;
    const addresses = ['0.0.0.0', '255.255.255.255', '10.0.0.5', '2001:db8::5', '::ffff:1.2.3.4'];
    for (let i = 0; i < 2000; i++) addresses.push([octet(), octet(), octet(), octet()].join('.'));
    for (const a of addresses) {
      const ip = parseIp(a);
      const want = ip ? formatIp(ip) : 'refused';
      let got: string;
      try {
        got = check({ src: { ...base.src, address: a } }).src.address;
      } catch {
        got = 'refused';
      }
      expect(got, a).toBe(want);
    }
  });

  it('names the field of a bad value, as before the fast paths', () => {
    expect(() => check({ time: '2026-13-01T00:00:00.000Z' })).toThrow(/r\.time/);
    // Date rolls a day past the month's end over, and so does the check (as it always did).
    expect(check({ time: '2026-02-30T00:00:00.000Z' }).time).toBe('2026-03-02T00:00:00.000Z');
    expect(() => check({ port: 70000 })).toThrow(/r\.port: .*an integer 0\.\.65535/);
    expect(() => check({ protocol: 'tcpx' })).toThrow(/r\.protocol: .*one of "tcp"/);
    expect(() => check({ src: { ...base.src, address: '10.0.0.256' } })).toThrow(/r\.src\.address/);

    // Every kind of field, nested ones included: the path is built only on failure.
    const fieldOfBad = (over: Record<string, unknown>) => {
      try {
        check(over);
      } catch (e) {
        return (e as VnpError).details?.field;
      }
      return 'accepted';
    };
    const side = base.egress;
    const cases: [Record<string, unknown>, string][] = [
      [{ src: { ...base.src, port: -1 } }, 'r.src.port'],
      [{ src: { ...base.src, record: 'Web' } }, 'r.src.record'],
      [{ dst: { ...base.dst, identity: 1.5 } }, 'r.dst.identity'],
      [{ dst: { ...base.dst, extra: 1 } }, 'r.dst.extra'],
      [{ dst: [] }, 'r.dst'],
      [{ egress: { ...side, verdict: 'maybe' } }, 'r.egress.verdict'],
      [{ egress: { ...side, policy: 'Bad' } }, 'r.egress.policy'],
      [{ egress: { ...side, rule: 'rule0' } }, 'r.egress.rule'],
      [{ egress: { verdict: 'deny', default: 'no' } }, 'r.egress.default'],
      [{ egress: { ...side, logged: 1 } }, 'r.egress.logged'],
      [{ ingress: { ...side, more: true } }, 'r.ingress.more'],
      [{ state: 'open' }, 'r.state'],
      [{ verdict: 'ok' }, 'r.verdict'],
      [{ bytes: -2 }, 'r.bytes'],
      [{ protocol: 'icmp', port: 8, code: 300 }, 'r.code'],
    ];
    for (const [over, field] of cases) expect(fieldOfBad(over), field).toBe(field);
  });
});

describe('checkFlowBatch', () => {
  const counters = { seen: 3, sampled: 1, unsampled: 2, dropped: 0 };
  const fieldOf = (denied: unknown) => {
    try {
      checkFlowBatch({ records: [], counters: { ...counters, denied } }, 'h1');
    } catch (e) {
      return (e as VnpError).details?.field;
    }
    return 'accepted';
  };

  it('takes per-rule deny counts, the defaults as policy "" and rule default, and names a bad one', () => {
    const denied = [
      { policy: '', rule: 'default', packets: 2 },
      { policy: 'lockdown', rule: 'ingress[0]', packets: 1 },
    ];
    expect(checkFlowBatch({ records: [], counters: { ...counters, denied } }, 'h1')).toEqual({
      records: [],
      counters: { ...counters, denied },
    });
    expect(fieldOf([{ policy: '', rule: 'egress[0]', packets: 1 }])).toBe(
      'counters.denied[0].rule',
    );
    expect(fieldOf([{ policy: 'P', rule: 'egress[0]', packets: 1 }])).toBe(
      'counters.denied[0].policy',
    );
    expect(fieldOf([{ policy: 'p', rule: 'default', packets: 1 }])).toBe('counters.denied[0].rule');
    expect(fieldOf([{ policy: 'p', rule: 'egress[0]', packets: -1 }])).toBe(
      'counters.denied[0].packets',
    );
    expect(fieldOf({})).toBe('counters.denied');
  });
});
