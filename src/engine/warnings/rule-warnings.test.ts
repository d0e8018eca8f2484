import { describe, expect, it } from 'vitest';
import type { Document, Rule } from '../../model/types.js';
import { Engine } from '../engine.js';

const net: Document = { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/24' };
const rec = (name: string, ip: string, tags: Record<string, string>): Document => ({
  kind: 'Interface',
  name,
  subnet: 'net',
  ips: [ip],
  tags,
});
const records = [
  net,
  rec('web', '10.0.0.1', { app: 'web', env: 'prod' }),
  rec('db', '10.0.0.2', { app: 'db', env: 'prod' }),
  rec('fx', '10.0.0.3', { role: 'forensics' }),
];
const forensics: Document = {
  kind: 'Partition',
  name: 'forensics',
  selector: 'role == "forensics"',
  intra: 'allow',
};

function pol(
  name: string,
  priority: number,
  appliesTo: string,
  egress: Rule[],
  mode: 'enforce' | 'audit' = 'enforce',
): Document {
  return { kind: 'Policy', name, priority, appliesTo, ingress: [], egress, routes: [], mode };
}

function warnings(docs: Document[], opts?: Parameters<Engine['ruleWarnings']>[0]) {
  const e = new Engine();
  e.load([...records, forensics, ...docs], 0);
  return e.ruleWarnings(opts).map((w) => ({
    rule: `${w.rule.policy}/${w.rule.rule}`,
    kind: w.kind,
    by: (w.shadowedBy ?? []).map((r) => `${r.policy}/${r.rule}`),
  }));
}

const toDb = { selector: 'app == "db"' };

describe('rule warnings: rules that can never decide', () => {
  it('an allow that an equal-priority deny overlaps completely, named in the message', () => {
    const e = new Engine();
    e.load(
      [
        ...records,
        forensics,
        pol('quarantine', 100, 'has(quarantine)', [
          { action: 'allow', to: { partition: 'forensics' } },
          { action: 'deny' },
        ]),
      ],
      0,
    );
    const [w, ...rest] = e.ruleWarnings();
    expect(rest).toEqual([]);
    expect(w).toMatchObject({
      kind: 'shadowed',
      rule: { policy: 'quarantine', rule: 'egress[0]', direction: 'egress', priority: 100 },
      shadowedBy: [{ policy: 'quarantine', rule: 'egress[1]', action: 'deny' }],
    });
    expect(w!.message).toBe(
      'Policy/quarantine egress[0] (allow, priority 100) can never decide: ' +
        'Policy/quarantine egress[1] (deny, priority 100) decides first (equal priority: deny beats allow)',
    );
  });

  it("the rule's own priority lifts it: no warning", () => {
    expect(
      warnings([
        pol('quarantine', 100, 'has(quarantine)', [
          { action: 'allow', to: { partition: 'forensics' }, priority: 101 },
          { action: 'deny' },
        ]),
      ]),
    ).toEqual([]);
  });

  it('a rule covered by the union of several higher-priority rules names them all', () => {
    expect(
      warnings([
        pol('low', 100, 'app == "web"', [{ action: 'allow', to: toDb, ports: ['tcp/1-100'] }]),
        pol('high', 200, 'all()', [
          { action: 'deny', ports: ['tcp/1-50'] },
          { action: 'log', to: { cidr: '0.0.0.0/0' }, ports: ['tcp/51-100'] },
          { action: 'log', to: { cidr: '::/0' }, ports: ['tcp/40-100'] },
        ]),
      ]),
    ).toEqual([
      {
        rule: 'low/egress[0]',
        kind: 'shadowed',
        by: ['high/egress[0]', 'high/egress[1]', 'high/egress[2]'],
      },
    ]);
  });

  it('a partial cover is no shadow (one port, one address family left)', () => {
    expect(
      warnings([
        pol('low', 100, 'app == "web"', [{ action: 'allow', to: toDb, ports: ['tcp/1-101'] }]),
        pol('high', 200, 'all()', [{ action: 'deny', ports: ['tcp/1-100'] }]),
      ]),
    ).toEqual([]);
    expect(
      warnings([
        pol('low', 100, 'app == "web"', [{ action: 'allow', to: toDb }]),
        pol('high', 200, 'all()', [{ action: 'deny', to: { cidr: '0.0.0.0/0' } }]),
      ]),
    ).toEqual([]);
  });

  it('only a policy that applies wherever the rule applies can shadow it', () => {
    const low = pol('low', 100, 'app == "web"', [{ action: 'allow', to: toDb }]);
    const deny = (appliesTo: string) => pol('high', 200, appliesTo, [{ action: 'deny' }]);
    expect(warnings([low, deny('app == "db"')])).toEqual([]);
    expect(warnings([low, deny('env == "prod"')])).toEqual([]); // web is prod today, not always
    for (const appliesTo of ['all()', 'app == "web"', 'app in {"web", "db"}'])
      expect(warnings([low, deny(appliesTo)]).map((w) => w.rule)).toEqual(['low/egress[0]']);
  });

  it('selector peers: a narrower selector is shadowed by a wider one, not the reverse', () => {
    const narrow = { selector: 'app == "db" && env == "prod"' };
    expect(
      warnings([
        pol('p', 100, 'all()', [
          { action: 'allow', to: narrow },
          { action: 'deny', to: toDb },
        ]),
      ]).map((w) => w.rule),
    ).toEqual(['p/egress[0]']);
    expect(
      warnings([
        pol('p', 100, 'all()', [
          { action: 'allow', to: toDb },
          { action: 'deny', to: narrow },
        ]),
      ]),
    ).toEqual([]);
  });

  it('a selector peer all() never shadows an any or cidr peer (outside addresses)', () => {
    expect(
      warnings([
        pol('p', 100, 'all()', [
          { action: 'allow', to: { cidr: '10.0.0.0/8' } },
          { action: 'deny', to: { selector: 'all()' } },
        ]),
        pol('q', 90, 'all()', [{ action: 'allow' }]),
      ]),
    ).toEqual([]);
  });

  it('cidr peers: covered by a union of ranges, exceptions respected', () => {
    const wide = { cidr: '10.0.0.0/8' };
    expect(
      warnings([
        pol('p', 100, 'all()', [
          { action: 'allow', to: wide },
          { action: 'deny', to: { cidr: '10.0.0.0/9' } },
          { action: 'deny', to: { cidr: '10.128.0.0/9', except: ['10.200.0.0/16'] } },
        ]),
      ]),
    ).toEqual([]);
    expect(
      warnings([
        pol('p', 100, 'all()', [
          { action: 'allow', to: { cidr: '10.0.0.0/8', except: ['10.200.0.0/16'] } },
          { action: 'deny', to: { cidr: '10.0.0.0/9' } },
          { action: 'deny', to: { cidr: '10.128.0.0/9', except: ['10.200.0.0/16'] } },
        ]),
      ]).map((w) => w.by),
    ).toEqual([['p/egress[1]', 'p/egress[2]']]);
  });

  it('audit-mode rules are never reported and never shadow', () => {
    expect(
      warnings([
        pol('audit', 500, 'all()', [{ action: 'deny' }, { action: 'allow', to: toDb }], 'audit'),
        pol('p', 100, 'all()', [{ action: 'allow', to: toDb }]),
      ]),
    ).toEqual([]);
  });

  it('strict: rules that match no record today are unused; without strict, silent', () => {
    const docs = [
      pol('ghost', 100, 'app == "ghost"', [{ action: 'allow', to: toDb }]),
      pol('p', 100, 'app == "web"', [{ action: 'allow', to: { selector: 'app == "nope"' } }]),
    ];
    expect(warnings(docs)).toEqual([]);
    expect(warnings(docs, { strict: true })).toEqual([
      { rule: 'ghost/egress[0]', kind: 'unused', by: [] },
      { rule: 'p/egress[0]', kind: 'unused', by: [] },
    ]);
  });

  it('scoped to the policies an apply wrote: as the shadowed rule or as the shadower', () => {
    const docs = [
      pol('a', 100, 'all()', [{ action: 'allow', to: toDb }, { action: 'deny' }]),
      pol('b', 100, 'app == "web"', [{ action: 'allow', to: toDb }]),
      pol('c', 150, 'app == "db"', [{ action: 'allow' }]),
    ];
    expect(warnings(docs).map((w) => w.rule)).toEqual(['a/egress[0]', 'b/egress[0]']);
    expect(warnings(docs, { policies: new Set(['b']) }).map((w) => w.rule)).toEqual([
      'b/egress[0]',
    ]);
    expect(warnings(docs, { policies: new Set(['a']) }).map((w) => w.rule)).toEqual([
      'a/egress[0]',
      'b/egress[0]',
    ]);
    expect(warnings(docs, { policies: new Set(['c']) })).toEqual([]);
  });
});
