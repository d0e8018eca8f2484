import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../client/api-types.js';
import { formatCheck } from './check-format.js';

const rule = (
  policy: string,
  priority: number,
  action: 'allow' | 'deny' | 'log',
  mode: 'enforce' | 'audit' = 'enforce',
) => ({
  policy,
  priority,
  rule: 'egress[0]',
  action,
  mode,
});

describe('formatCheck', () => {
  it('shows the verdict, endpoints, each side’s decider, overridden and audit rules', () => {
    const r: CheckResult = {
      verdict: 'deny',
      reason: 'egress denied by policy "quarantine" egress[0]',
      src: { record: 'web-3', address: '10.10.1.13', identity: 262, partitions: ['web-tier'] },
      dst: { record: 'dns-1', address: '10.10.9.53', identity: 258, partitions: [] },
      egress: {
        verdict: 'deny',
        policy: 'quarantine',
        rule: rule('quarantine', 1000, 'deny'),
        overridden: [rule('use-shared-services', 200, 'allow')],
        audit: { rules: [rule('watch', 5, 'log', 'audit')], wouldBe: 'allow' },
        evaluated: true,
      },
      ingress: {
        verdict: 'allow',
        default: {
          verdict: 'allow',
          reason: 'neither endpoint is in a partition (defaults.unpartitioned)',
        },
        overridden: [],
        evaluated: true,
      },
    };
    expect(formatCheck(r, { protocol: 'udp', port: 53 })).toBe(
      [
        'DENY  web-3 → dns-1 udp/53: egress denied by policy "quarantine" egress[0]',
        '  src: web-3 10.10.1.13 (identity 262, partitions web-tier)',
        '  dst: dns-1 10.10.9.53 (identity 258, no partition)',
        '  egress: deny by policy quarantine egress[0] (priority 1000, deny)',
        '      overridden: policy use-shared-services egress[0] (priority 200, allow)',
        '      audit mode would allow: policy watch egress[0] (priority 5, log, audit)',
        '  ingress: allow by default — neither endpoint is in a partition (defaults.unpartitioned)',
        '',
      ].join('\n'),
    );
  });

  it('says when a side is an outside address', () => {
    const r: CheckResult = {
      verdict: 'allow',
      reason: 'allowed',
      src: { address: '203.0.113.9', identity: 1, partitions: [] },
      dst: { record: 'web-1', address: '10.0.0.1', identity: 300, partitions: [] },
      egress: { verdict: 'allow', overridden: [], evaluated: false },
      ingress: {
        verdict: 'allow',
        rule: rule('web', 100, 'allow'),
        overridden: [],
        evaluated: true,
      },
    };
    const out = formatCheck(r);
    expect(out).toContain('ALLOW  203.0.113.9 → web-1: allowed');
    expect(out).toContain('egress: not evaluated (an address outside every record)');
  });

  it('shows the route steering the flow, and an inert one', () => {
    const base: CheckResult = {
      verdict: 'allow',
      reason: 'allowed',
      src: { record: 'web-1', address: '10.0.0.1', identity: 300, partitions: [] },
      dst: { record: 'db-1', address: '10.0.0.3', identity: 301, partitions: [] },
      egress: { verdict: 'allow', overridden: [], evaluated: true },
      ingress: { verdict: 'allow', overridden: [], evaluated: true },
    };
    const route = { policy: 'inspect', priority: 10, route: 'routes[0]', via: 'fw-1' };
    const out = formatCheck({
      ...base,
      route: {
        ...route,
        steer: 2,
        active: true,
        overridden: [{ policy: 'other', route: 'routes[1]', via: 'fw-2' }],
      },
    });
    expect(out).toContain(
      '  route: via fw-1 (steer class 2) by policy inspect routes[0] (priority 10)\n' +
        '      overridden: policy other routes[1] via fw-2\n',
    );
    const inert = formatCheck({
      ...base,
      route: {
        ...route,
        active: false,
        reason: 'inert: "fw-1" is not attached to an instance',
        overridden: [],
      },
    });
    expect(inert).toContain(
      'route: via fw-1 by policy inspect routes[0] (priority 10), inert: "fw-1" is not attached to an instance: not steered',
    );
    expect(formatCheck(base)).not.toContain('route:');
  });
});
