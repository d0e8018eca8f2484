import { describe, expect, it } from 'vitest';
import { model, part, pol, rec, settings } from '../model-builder.js';
import { oracleCheck, oracleGetPolicyForTags } from './oracle-evaluator.js';
import {
  applyOracleChanges,
  oracleModelFromDocuments,
  oracleModelToDocuments,
} from './oracle-model.js';

const web = rec('web', ['10.0.0.1', '10.0.0.11'], { app: 'web' });
const db = rec('db', 'fd00::2', { app: 'db' });

describe('oracleCheck explanations', () => {
  const m = model({
    records: [web, db],
    partitions: [part('all', 'all()', 'deny')],
    policies: [
      pol('b', 100, 'app == "web"', {
        egress: [{ action: 'allow' }, { action: 'log', ports: ['tcp'] }],
      }),
      pol('a', 100, 'app == "web"', {
        egress: [{ action: 'allow', to: { selector: 'app == "db"' } }],
      }),
      pol('top', 200, 'app == "web"', { egress: [{ action: 'allow', ports: ['udp'] }] }),
      pol('watch', 300, 'app == "web"', {
        mode: 'audit',
        egress: [{ action: 'allow' }, { action: 'deny' }],
      }),
    ],
  });

  it('lists losers in precedence order: priority, deny > log > allow, policy name, rule index', () => {
    const r = oracleCheck(m, { src: 'web', dst: 'db', protocol: 'tcp', port: 1 });
    expect(r.egress.rule).toMatchObject({
      policy: 'b',
      rule: 'egress[1]',
      action: 'log',
      mode: 'enforce',
      priority: 100,
    });
    expect(r.egress.logged).toBe(true);
    expect(r.egress.overridden.map((o) => `${o.policy}/${o.rule}`)).toEqual([
      'a/egress[0]',
      'b/egress[0]',
    ]);
    expect(r.egress.audit).toEqual({
      rules: [
        { policy: 'watch', priority: 300, rule: 'egress[1]', action: 'deny', mode: 'audit' },
        { policy: 'watch', priority: 300, rule: 'egress[0]', action: 'allow', mode: 'audit' },
      ],
      wouldBe: 'deny',
    });
    expect(r.ingress.default?.reason).toBe(
      'no rule matched; src and dst share partition "all" (intra deny in "all")',
    );
    expect(r.reason).toMatch(/^denied: ingress default deny/);
  });

  it('describes endpoints: canonical addresses, partitions, world identity for outside', () => {
    const r = oracleCheck(m, { src: '10.0.0.11', dst: 'FD00:0::2', protocol: 'udp', port: 53 });
    expect(r.src).toEqual({
      record: 'web',
      address: '10.0.0.11',
      identity: 0,
      partitions: ['all'],
    });
    expect(r.dst).toEqual({ record: 'db', address: 'fd00::2', identity: 0, partitions: ['all'] });
    expect(r.egress.rule?.policy).toBe('top');
    const out = oracleCheck(m, { src: 'web', dst: '203.0.113.9', protocol: 'icmp' });
    expect(out.dst).toEqual({ address: '203.0.113.9', identity: 1, partitions: [] });
    expect(out.ingress).toMatchObject({ verdict: 'allow', evaluated: false });
    expect(out.ingress.default?.reason).toMatch(/outside every record/);
  });

  it('explains the three defaults in words', () => {
    const plain = model({ records: [web, db], settings: settings({ unpartitioned: 'deny' }) });
    expect(oracleCheck(plain, { src: 'web', dst: 'db', port: 1 }).egress.default?.reason).toBe(
      'no rule matched; neither src nor dst is in a partition (defaults.unpartitioned: deny)',
    );
    const cross = model({ records: [web, db], partitions: [part('w', 'app == "web"')] });
    expect(oracleCheck(cross, { src: 'web', dst: 'db', port: 1 }).egress.default?.reason).toBe(
      'no rule matched; src and dst share no partition (defaults.crossPartition: deny)',
    );
  });
});

describe('oracleGetPolicyForTags', () => {
  const m = model({
    records: [web, db],
    partitions: [part('front', 'app == "web"'), part('other', 'app == "db"')],
    policies: [
      pol('wide', 200, 'app == "web"', {
        egress: [
          {
            action: 'deny',
            to: { selector: 'app=="db"' },
            ports: ['tcp/8000-8099', 'tcp/8100-8200'],
          },
          { action: 'allow', to: { cidr: '10.0.0.0/8' } },
        ],
      }),
      pol('narrow', 100, 'app == "web"', {
        egress: [
          { action: 'allow', to: { selector: 'app == "db"' }, ports: ['tcp/8050-8150'] },
          { action: 'allow', to: { selector: 'app == "db"' }, ports: ['tcp/8050-8250'] },
          { action: 'deny', to: { cidr: '10.0.0.0/8' }, ports: ['udp/53'] },
        ],
      }),
      pol('dry', 300, 'app == "web"', { mode: 'audit', egress: [{ action: 'deny' }] }),
      pol('not-web', 999, 'app == "db"', { egress: [{ action: 'deny' }] }),
    ],
  });

  it('merges the policies that apply, in precedence order, marking shadowed rules', () => {
    const p = oracleGetPolicyForTags(m, { app: 'web' });
    expect(p.policies).toEqual(['dry', 'wide', 'narrow']);
    expect(p.partitions).toEqual(['front']);
    expect(p.ingress).toEqual([]);
    expect(p.egress.map((r) => [`${r.policy}/${r.rule}`, r.shadowed])).toEqual([
      ['dry/egress[0]', false], // audit rules never shadow nor are shadowed
      ['wide/egress[0]', false],
      ['wide/egress[1]', false],
      ['narrow/egress[2]', true], // same cidr peer, all traffic covers udp/53
      ['narrow/egress[0]', true], // 8050-8150 inside 8000-8099 ∪ 8100-8200 (same selector, spelled differently)
      ['narrow/egress[1]', false], // 8201-8250 is not covered
    ]);
    expect(p.egress[1]).toMatchObject({
      direction: 'egress',
      peer: { selector: 'app=="db"' },
      ports: ['tcp/8000-8099', 'tcp/8100-8200'],
    });
    expect(p.egress[0]).toMatchObject({ peer: 'any', ports: 'all', mode: 'audit' });
  });

  it('an earlier any-peer rule shadows later rules it covers', () => {
    const any = model({
      records: [web],
      policies: [
        pol('a', 100, 'all()', {
          ingress: [{ action: 'deny', ports: ['udp', 'tcp', 'sctp', 'icmp'] }],
        }),
        pol('b', 50, 'all()', {
          ingress: [
            { action: 'allow', from: { cidr: '0.0.0.0/0' } },
            { action: 'allow', from: { selector: 'x == 1' }, ports: ['tcp/1'] },
          ],
        }),
      ],
    });
    expect(oracleGetPolicyForTags(any, {}).ingress.map((r) => r.shadowed)).toEqual([
      false,
      true,
      true,
    ]);
  });
});

describe('shadowing by cidr peers compares address sets', () => {
  it('a wider range covers a narrower one, exceptions included', () => {
    const m = model({
      records: [web],
      policies: [
        pol('a', 100, 'all()', {
          egress: [{ action: 'deny', to: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
        }),
        pol('b', 50, 'all()', {
          egress: [
            { action: 'allow', to: { cidr: '10.2.0.0/16' } },
            { action: 'allow', to: { cidr: '10.1.2.0/24' } },
            {
              action: 'allow',
              to: { cidr: '10.0.0.0/8', except: ['10.1.0.0/17', '10.1.128.0/17'] },
            },
            { action: 'allow', to: { cidr: 'fd00::/8' } },
          ],
        }),
      ],
    });
    expect(
      oracleGetPolicyForTags(m, {}).egress.map((r) => `${r.policy}/${r.rule} ${r.shadowed}`),
    ).toEqual([
      'a/egress[0] false',
      'b/egress[0] true',
      'b/egress[1] false',
      'b/egress[2] true',
      'b/egress[3] false',
    ]);
  });
});

describe('oracle model', () => {
  it('round-trips documents and applies puts and deletes without touching the input', () => {
    const m = model({ records: [web, db], policies: [pol('p', 1, 'all()', {})] });
    const again = oracleModelFromDocuments(oracleModelToDocuments(m));
    expect(again).toEqual(m);
    const next = applyOracleChanges(m, [
      { op: 'put', doc: { kind: 'Interface', ...web, tags: { app: 'db' } } },
      { op: 'delete', kind: 'Policy', name: 'p' },
      {
        op: 'put',
        doc: {
          kind: 'Settings',
          name: 'default',
          defaults: { unpartitioned: 'deny', crossPartition: 'allow' },
        },
      },
    ]);
    expect(next.interfaces[0]?.tags).toEqual({ app: 'db' });
    expect(next.policies).toEqual([]);
    expect(next.settings.defaults.unpartitioned).toBe('deny');
    expect(m.interfaces[0]?.tags).toEqual({ app: 'web' });
    expect(
      applyOracleChanges(next, [{ op: 'delete', kind: 'Settings', name: 'default' }]).settings
        .defaults,
    ).toEqual({
      unpartitioned: 'allow',
      crossPartition: 'deny',
    });
  });
});
