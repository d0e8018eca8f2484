/**
 * The verdict table: one row per sentence of design.md §2 (and the conventions
 * docs/semantics.md adds). Each row is a model, a flow and the expected verdict with,
 * per side, what decided it. The same rows run against the §2 oracle
 * (verdict-table.test.ts) and the compiled engine (engine-verdicts.test.ts).
 */
import type { CheckRequest } from '../../src/engine/index.js';
import type { ErrorCode } from '../../src/model/errors.js';
import type { OracleModel } from '../support/oracle/oracle-model.js';
import { model, part, pol, rec, settings } from '../support/model-builder.js';

/** What decided one side. */
export interface SideExpectation {
  verdict: 'allow' | 'deny';
  /**
   * `policy/egress[0]`: that rule decided; `default`: no rule matched (§2.2);
   * `outside`: the side is an address outside every record (§2.3, not evaluated);
   * `self`: a record talking to itself (§2.3).
   */
  by: string;
  /** Expected `logged` (false when absent). */
  logged?: boolean;
  /** Matching enforce rules that lost, `policy/rule`, in precedence order. */
  overridden?: string[];
  /** What the audit-mode rules would have done (absent: no audit rule matched). */
  auditWouldBe?: 'allow' | 'deny';
}

export interface VerdictCase {
  /** The sentence being tested, as a test name. */
  name: string;
  section: string;
  model: OracleModel;
  flow: CheckRequest;
  verdict: 'allow' | 'deny';
  egress: SideExpectation;
  ingress: SideExpectation;
}

export interface ErrorCase {
  name: string;
  model: OracleModel;
  flow: CheckRequest;
  code: ErrorCode;
  field: string;
}

// Shared cast: web 10.0.0.1 (secondary 10.0.0.11), db 10.0.0.2 (secondary 10.0.0.12), cache 10.0.0.3.
const web = rec('web', ['10.0.0.1', '10.0.0.11'], {
  app: 'web',
  env: 'prod',
  owner: { team: 'pay', cc: 41 },
});
const db = rec('db', ['10.0.0.2', '10.0.0.12'], { app: 'db', env: 'prod', tier: 2 });
const cache = rec('cache', '10.0.0.3', { app: 'cache' });
const web6 = rec('web6', 'fd00::1', { app: 'web' });
const db6 = rec('db6', 'fd00::2', { app: 'db' });
const records = [web, db, cache, web6, db6];

const toDb = { selector: 'app == "db"' };
const fromWeb = { selector: 'app == "web"' };
const pg: CheckRequest = { src: 'web', dst: 'db', protocol: 'tcp', port: 5432 };
const dflt = (verdict: 'allow' | 'deny'): SideExpectation => ({ verdict, by: 'default' });
const outside: SideExpectation = { verdict: 'allow', by: 'outside' };
const self: SideExpectation = { verdict: 'allow', by: 'self' };

export const VERDICT_CASES: VerdictCase[] = [
  // ---------------------------------------------------------------- §2.1 precedence
  {
    name: 'egress: the rule of the highest priority decides',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('low', 100, 'app == "web"', { egress: [{ action: 'deny', to: toDb }] }),
        pol('high', 200, 'app == "web"', { egress: [{ action: 'allow', to: toDb }] }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'high/egress[0]', overridden: ['low/egress[0]'] },
    ingress: dflt('allow'),
  },
  {
    name: 'ingress: the rule of the highest priority decides (deny above allow)',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', { ingress: [{ action: 'allow', from: fromWeb }] }),
        pol('lockdown', 65535, 'app == "db"', { ingress: [{ action: 'deny' }] }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'lockdown/ingress[0]', overridden: ['db-in/ingress[0]'] },
  },
  {
    name: 'priority 0 still beats the default',
    section: '§2.1',
    model: model({
      records,
      policies: [pol('zero', 0, 'app == "web"', { egress: [{ action: 'deny', to: toDb }] })],
    }),
    flow: pg,
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'zero/egress[0]' },
    ingress: dflt('allow'),
  },
  {
    name: 'tie at one priority: deny beats allow (whatever the policy names)',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('a-allow', 100, 'app == "web"', { egress: [{ action: 'allow', to: toDb }] }),
        pol('b-deny', 100, 'app == "web"', { egress: [{ action: 'deny', to: toDb }] }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'b-deny/egress[0]', overridden: ['a-allow/egress[0]'] },
    ingress: dflt('allow'),
  },
  {
    name: 'tie at one priority: deny beats log',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('a-log', 100, 'app == "db"', { ingress: [{ action: 'log', from: fromWeb }] }),
        pol('b-deny', 100, 'app == "db"', { ingress: [{ action: 'deny', from: fromWeb }] }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'b-deny/ingress[0]', overridden: ['a-log/ingress[0]'] },
  },
  {
    name: 'tie at one priority: log beats allow (the side allows and is logged)',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('a-allow', 100, 'app == "web"', { egress: [{ action: 'allow', to: toDb }] }),
        pol('b-log', 100, 'app == "web"', { egress: [{ action: 'log', to: toDb }] }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: {
      verdict: 'allow',
      by: 'b-log/egress[0]',
      logged: true,
      overridden: ['a-allow/egress[0]'],
    },
    ingress: dflt('allow'),
  },
  {
    name: 'tie inside one policy: the deny rule wins even when listed after the allow rule',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('one', 100, 'app == "web"', {
          egress: [
            { action: 'allow', to: toDb },
            { action: 'deny', to: toDb, ports: ['tcp/5432'] },
          ],
        }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'one/egress[1]', overridden: ['one/egress[0]'] },
    ingress: dflt('allow'),
  },
  // ---------------------------------------------------------------- §2.1 a rule's own priority
  {
    name: "a rule's own priority decides inside one policy: allow forensics above deny everything else",
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('quarantine', 100, 'app == "web"', {
          egress: [{ action: 'allow', to: toDb, priority: 101 }, { action: 'deny' }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'quarantine/egress[0]', overridden: ['quarantine/egress[1]'] },
    ingress: dflt('allow'),
  },
  {
    name: "a rule without its own priority takes its policy's, below another rule's own",
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('quarantine', 100, 'app == "web"', {
          egress: [{ action: 'allow', to: toDb, priority: 101 }, { action: 'deny' }],
        }),
      ],
    }),
    flow: { src: 'web', dst: 'cache', protocol: 'tcp', port: 6379 },
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'quarantine/egress[1]' },
    ingress: dflt('allow'),
  },
  {
    name: "a rule's own priority replaces its policy's: a lower rule priority loses to a lower policy",
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('high', 200, 'app == "web"', {
          egress: [{ action: 'deny', to: toDb, priority: 50 }],
        }),
        pol('low', 100, 'app == "web"', { egress: [{ action: 'allow', to: toDb }] }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'low/egress[0]', overridden: ['high/egress[0]'] },
    ingress: dflt('allow'),
  },
  {
    name: "a rule's own priority equal to another policy's ties: deny beats allow",
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('a-allow', 300, 'app == "db"', {
          ingress: [{ action: 'allow', from: fromWeb, priority: 100 }],
        }),
        pol('b-deny', 100, 'app == "db"', { ingress: [{ action: 'deny' }] }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'b-deny/ingress[0]', overridden: ['a-allow/ingress[0]'] },
  },
  {
    name: 'a log rule alone: the side allows, logged',
    section: '§2.1',
    model: model({
      records,
      policies: [pol('audit-db', 10, 'app == "db"', { ingress: [{ action: 'log' }] })],
    }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: { verdict: 'allow', by: 'audit-db/ingress[0]', logged: true },
  },
  {
    name: 'an egress rule matches the destination, not the source',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('self-deny', 100, 'app == "web"', { egress: [{ action: 'deny', to: fromWeb }] }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'ingress rules come from policies that apply to the destination only',
    section: '§2.1',
    model: model({
      records,
      policies: [pol('web-in', 100, 'app == "web"', { ingress: [{ action: 'deny' }] })],
    }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  // ---------------------------------------------------------------- §2.2 defaults
  {
    name: 'default: neither endpoint in a partition → defaults.unpartitioned (allow)',
    section: '§2.2',
    model: model({ records }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'default: defaults.unpartitioned set to deny',
    section: '§2.2',
    model: model({ records, settings: settings({ unpartitioned: 'deny' }) }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('deny'),
    ingress: dflt('deny'),
  },
  {
    name: 'default: a shared partition with intra allow',
    section: '§2.2',
    model: model({ records, partitions: [part('prod', 'env == "prod"')] }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'default: a shared partition with intra deny',
    section: '§2.2',
    model: model({ records, partitions: [part('prod', 'env == "prod"', 'deny')] }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('deny'),
    ingress: dflt('deny'),
  },
  {
    name: 'default: several shared partitions, one intra deny → deny',
    section: '§2.2',
    model: model({
      records,
      partitions: [
        part('prod', 'env == "prod"'),
        part('pay', 'has(app)', 'deny'),
        part('all', 'all()'),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('deny'),
    ingress: dflt('deny'),
  },
  {
    name: 'default: several shared partitions, all intra allow → allow',
    section: '§2.2',
    model: model({ records, partitions: [part('prod', 'env == "prod"'), part('all', 'all()')] }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'default: different partitions → defaults.crossPartition (deny)',
    section: '§2.2',
    model: model({
      records,
      partitions: [part('front', 'app == "web"'), part('back', 'app == "db"')],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('deny'),
    ingress: dflt('deny'),
  },
  {
    name: 'default: one endpoint partitioned, the other not → crossPartition',
    section: '§2.2',
    model: model({ records, partitions: [part('back', 'app == "db"')] }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('deny'),
    ingress: dflt('deny'),
  },
  {
    name: 'default: defaults.crossPartition set to allow',
    section: '§2.2',
    model: model({
      records,
      partitions: [part('front', 'app == "web"'), part('back', 'app == "db"')],
      settings: settings({ crossPartition: 'allow', unpartitioned: 'deny' }),
    }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'a rule beats an intra-deny default on its side only (the other side still denies)',
    section: '§2.2',
    model: model({
      records,
      partitions: [part('prod', 'env == "prod"', 'deny')],
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'allow', to: toDb, ports: ['tcp/5432'] }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: { verdict: 'allow', by: 'web-out/egress[0]' },
    ingress: dflt('deny'),
  },
  // ---------------------------------------------------------------- §2.2/§2.3 outside addresses
  {
    name: 'record → outside address: egress evaluated (unpartitioned), ingress not evaluated',
    section: '§2.3',
    model: model({ records }),
    flow: { src: 'web', dst: '192.0.2.10', protocol: 'tcp', port: 443 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: outside,
  },
  {
    name: 'an outside address is in no partition: partitioned record → outside takes crossPartition',
    section: '§2.2',
    model: model({ records, partitions: [part('all', 'all()')] }),
    flow: { src: 'web', dst: '192.0.2.10', protocol: 'tcp', port: 443 },
    verdict: 'deny',
    egress: dflt('deny'),
    ingress: outside,
  },
  {
    name: 'outside address → record: ingress decides, egress not evaluated',
    section: '§2.3',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { cidr: '192.0.2.0/24' } }],
        }),
      ],
    }),
    flow: { src: '192.0.2.10', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'deny',
    egress: outside,
    ingress: { verdict: 'deny', by: 'db-in/ingress[0]' },
  },
  {
    name: 'outside → partitioned record allowed by a cidr rule',
    section: '§2.3',
    model: model({
      records,
      partitions: [part('all', 'all()', 'deny')],
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'allow', from: { cidr: '192.0.2.0/24' } }],
        }),
      ],
    }),
    flow: { src: '192.0.2.10', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: outside,
    ingress: { verdict: 'allow', by: 'db-in/ingress[0]' },
  },
  {
    name: 'an address inside a subnet but held by no record is outside every record',
    section: '§2.3',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { selector: 'all()' } }],
        }),
      ],
    }),
    flow: { src: 'web', dst: '10.0.0.99', protocol: 'tcp', port: 80 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: outside,
  },
  {
    name: 'a selector peer (even all()) never matches an outside address',
    section: '§2.1',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { selector: 'all()' } }],
        }),
      ],
    }),
    flow: { src: '198.51.100.1', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: outside,
    ingress: dflt('allow'),
  },
  {
    name: 'a partition peer never matches an outside address',
    section: '§2.1',
    model: model({
      records,
      partitions: [part('everyone', 'all()')],
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { partition: 'everyone' } }],
        }),
      ],
      settings: settings({ crossPartition: 'allow' }),
    }),
    flow: { src: '198.51.100.1', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: outside,
    ingress: dflt('allow'),
  },
  {
    name: 'an absent peer matches any peer, outside addresses included',
    section: '§2.1',
    model: model({
      records,
      policies: [pol('db-in', 100, 'app == "db"', { ingress: [{ action: 'deny' }] })],
    }),
    flow: { src: '198.51.100.1', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'deny',
    egress: outside,
    ingress: { verdict: 'deny', by: 'db-in/ingress[0]' },
  },
  {
    name: 'outside → outside: no side is evaluated',
    section: '§2.3',
    model: model({ records, settings: settings({ unpartitioned: 'deny' }) }),
    flow: { src: '198.51.100.1', dst: '192.0.2.10', protocol: 'udp', port: 53 },
    verdict: 'allow',
    egress: outside,
    ingress: outside,
  },
  // ---------------------------------------------------------------- §2.3 self
  {
    name: 'a record talking to itself is allowed, whatever its rules',
    section: '§2.3',
    model: model({
      records,
      partitions: [part('all', 'all()', 'deny')],
      policies: [
        pol('web-lock', 100, 'app == "web"', {
          egress: [{ action: 'deny' }],
          ingress: [{ action: 'deny' }],
        }),
      ],
    }),
    flow: { src: 'web', dst: 'web', protocol: 'tcp', port: 80 },
    verdict: 'allow',
    egress: self,
    ingress: self,
  },
  {
    name: 'a record talking to its own secondary address is the same record',
    section: '§2.3',
    model: model({
      records,
      policies: [pol('web-lock', 100, 'app == "web"', { egress: [{ action: 'deny' }] })],
    }),
    flow: { src: '10.0.0.1', dst: '10.0.0.11', protocol: 'tcp', port: 80 },
    verdict: 'allow',
    egress: self,
    ingress: self,
  },
  // ---------------------------------------------------------------- cidr peers
  {
    name: 'cidr peer with except (v4): the excepted record is not matched',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { cidr: '10.0.0.0/24', except: ['10.0.0.2/32'] } }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'cidr peer with except (v4): other records in the range are matched',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { cidr: '10.0.0.0/24', except: ['10.0.0.2/32'] } }],
        }),
      ],
    }),
    flow: { src: 'web', dst: 'cache', protocol: 'tcp', port: 6379 },
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'web-out/egress[0]' },
    ingress: dflt('allow'),
  },
  {
    name: 'cidr peer with except uses the flow address: a secondary address outside the exception matches',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { cidr: '10.0.0.0/24', except: ['10.0.0.2/32'] } }],
        }),
      ],
    }),
    flow: { src: 'web', dst: '10.0.0.12', protocol: 'tcp', port: 5432 },
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'web-out/egress[0]' },
    ingress: dflt('allow'),
  },
  {
    name: 'cidr peer with except (v6): the excepted record is not matched',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('web6-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { cidr: 'fd00::/64', except: ['fd00::2/128'] } }],
        }),
      ],
    }),
    flow: { src: 'web6', dst: 'db6', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'cidr peer (v6) matches an outside address in the range',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('web6-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { cidr: 'fd00::/64', except: ['fd00::2/128'] } }],
        }),
      ],
    }),
    flow: { src: 'web6', dst: 'fd00::99', protocol: 'udp', port: 53 },
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'web6-out/egress[0]' },
    ingress: outside,
  },
  {
    name: 'a v4 cidr never matches a v6 address',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('web6-out', 100, 'app == "web"', {
          egress: [{ action: 'deny', to: { cidr: '0.0.0.0/0' } }],
        }),
      ],
    }),
    flow: { src: 'web6', dst: 'db6', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: "a cidr peer matches records' addresses (records included) on both sides",
    section: '§1 Rules',
    model: model({
      records,
      settings: settings({ unpartitioned: 'deny' }),
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'allow', to: { cidr: '10.0.0.0/24' } }],
        }),
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'allow', from: { cidr: '10.0.0.1/32' } }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'web-out/egress[0]' },
    ingress: { verdict: 'allow', by: 'db-in/ingress[0]' },
  },
  // ---------------------------------------------------------------- endpoints by address
  {
    name: "a record's secondary address as source is that record (selectors match its tags)",
    section: '§2',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', { ingress: [{ action: 'deny', from: fromWeb }] }),
      ],
    }),
    flow: { src: '10.0.0.11', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'db-in/ingress[0]' },
  },
  {
    name: 'a secondary address outside a /32 cidr peer is not matched (cidr uses the flow address)',
    section: '§2',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { cidr: '10.0.0.1/32' } }],
        }),
      ],
    }),
    flow: { src: '10.0.0.11', dst: '10.0.0.12', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'a record named as endpoint uses its primary address',
    section: '§2',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { cidr: '10.0.0.1/32' } }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'db-in/ingress[0]' },
  },
  // ---------------------------------------------------------------- ports
  {
    name: 'a bare protocol covers all its ports',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('no-udp', 100, 'app == "web"', { egress: [{ action: 'deny', ports: ['udp'] }] }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'udp', port: 40000 },
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'no-udp/egress[0]' },
    ingress: dflt('allow'),
  },
  {
    name: 'a bare protocol does not match another protocol',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('no-udp', 100, 'app == "web"', { egress: [{ action: 'deny', ports: ['udp'] }] }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 40000 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  ...[8000, 8099, 8100, 7999].map((port): VerdictCase => ({
    name: `port range tcp/8000-8099, port ${port}`,
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('range', 100, 'app == "db"', {
          ingress: [{ action: 'deny', ports: ['tcp/8000-8099'] }],
        }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port },
    verdict: port >= 8000 && port <= 8099 ? 'deny' : 'allow',
    egress: dflt('allow'),
    ingress:
      port >= 8000 && port <= 8099 ? { verdict: 'deny', by: 'range/ingress[0]' } : dflt('allow'),
  })),
  {
    name: 'a udp range does not match tcp on the same port',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('range', 100, 'app == "db"', {
          ingress: [{ action: 'deny', ports: ['udp/8000-8099'] }],
        }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'tcp', port: 8000 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'icmp matches an icmp spec (the port is ignored)',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('no-ping', 100, 'app == "db"', { ingress: [{ action: 'deny', ports: ['icmp'] }] }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'icmp' },
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'no-ping/ingress[0]' },
  },
  {
    name: 'icmp does not match tcp specs',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('tcp-only', 100, 'app == "db"', {
          ingress: [{ action: 'deny', ports: ['tcp', 'tcp/1-65535'] }],
        }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'icmp', port: 80 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'rules without ports match all traffic, icmp included',
    section: '§1 Rules',
    model: model({
      records,
      policies: [pol('all', 100, 'app == "db"', { ingress: [{ action: 'deny', from: fromWeb }] })],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'icmp' },
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'all/ingress[0]' },
  },
  {
    name: 'protocol defaults to tcp',
    section: '§2',
    model: model({
      records,
      policies: [
        pol('no-https', 100, 'app == "db"', { ingress: [{ action: 'deny', ports: ['tcp/443'] }] }),
      ],
    }),
    flow: { src: 'web', dst: 'db', port: 443 },
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'no-https/ingress[0]' },
  },
  {
    name: 'sctp port spec',
    section: '§1 Rules',
    model: model({
      records,
      policies: [
        pol('sctp', 100, 'app == "db"', { ingress: [{ action: 'deny', ports: ['sctp/9'] }] }),
      ],
    }),
    flow: { src: 'web', dst: 'db', protocol: 'sctp', port: 9 },
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'sctp/ingress[0]' },
  },
  // ---------------------------------------------------------------- §2.4 audit, both sides
  {
    name: 'an audit policy that would deny does not decide',
    section: '§2.4',
    model: model({
      records,
      policies: [
        pol('try-deny', 500, 'app == "web"', {
          mode: 'audit',
          egress: [{ action: 'deny', to: toDb }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'default', auditWouldBe: 'deny' },
    ingress: dflt('allow'),
  },
  {
    name: "an audit policy's rules are ordered by their own priorities for what they would do",
    section: '§2.4',
    model: model({
      records,
      policies: [
        pol('try', 100, 'app == "web"', {
          mode: 'audit',
          egress: [
            { action: 'deny', to: toDb },
            { action: 'allow', to: toDb, priority: 200 },
          ],
        }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'default', auditWouldBe: 'allow' },
    ingress: dflt('allow'),
  },
  {
    name: 'an audit policy that would allow does not lift an enforced deny',
    section: '§2.4',
    model: model({
      records,
      policies: [
        pol('deny-db', 100, 'app == "db"', { ingress: [{ action: 'deny' }] }),
        pol('try-allow', 65535, 'app == "db"', {
          mode: 'audit',
          ingress: [{ action: 'allow', from: fromWeb }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'deny-db/ingress[0]', auditWouldBe: 'allow' },
  },
  {
    name: 'the flow is allowed iff both sides allow: egress allows, ingress denies',
    section: '§2.4',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', { egress: [{ action: 'allow', to: toDb }] }),
        pol('db-in', 100, 'app == "db"', { ingress: [{ action: 'deny', from: fromWeb }] }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: { verdict: 'allow', by: 'web-out/egress[0]' },
    ingress: { verdict: 'deny', by: 'db-in/ingress[0]' },
  },
  {
    name: 'the flow is allowed iff both sides allow: egress denies, ingress allows',
    section: '§2.4',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', { egress: [{ action: 'deny', to: toDb }] }),
        pol('db-in', 100, 'app == "db"', { ingress: [{ action: 'allow', from: fromWeb }] }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: { verdict: 'deny', by: 'web-out/egress[0]' },
    ingress: { verdict: 'allow', by: 'db-in/ingress[0]' },
  },
  {
    name: 'log on egress and allow on ingress: allowed, egress logged',
    section: '§2.4',
    model: model({
      records,
      policies: [
        pol('web-out', 100, 'app == "web"', { egress: [{ action: 'log', to: toDb }] }),
        pol('db-in', 100, 'app == "db"', { ingress: [{ action: 'allow', from: fromWeb }] }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'web-out/egress[0]', logged: true },
    ingress: { verdict: 'allow', by: 'db-in/ingress[0]' },
  },
  // ---------------------------------------------------------------- selectors
  {
    name: 'selector type mismatch: tier == "2" does not select integer 2',
    section: '§1 Selectors',
    model: model({
      records,
      policies: [pol('t2', 100, 'tier == "2"', { ingress: [{ action: 'deny' }] })],
    }),
    flow: pg,
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'selector with the right type: tier == 2 selects integer 2',
    section: '§1 Selectors',
    model: model({
      records,
      policies: [pol('t2', 100, 'tier == 2', { ingress: [{ action: 'deny' }] })],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 't2/ingress[0]' },
  },
  {
    name: '!= on a missing key is false (the record without env is not selected)',
    section: '§1 Selectors',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { selector: 'env != "dev"' } }],
        }),
      ],
    }),
    flow: { src: 'cache', dst: 'db', protocol: 'tcp', port: 5432 },
    verdict: 'allow',
    egress: dflt('allow'),
    ingress: dflt('allow'),
  },
  {
    name: 'a JSON path selector owner.team reaches into an object tag',
    section: '§1 Selectors',
    model: model({
      records,
      policies: [
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'deny', from: { selector: 'owner.team == "pay"' } }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'deny',
    egress: dflt('allow'),
    ingress: { verdict: 'deny', by: 'db-in/ingress[0]' },
  },
  {
    name: 'a partition peer matches members of the partition',
    section: '§1 Rules',
    model: model({
      records,
      partitions: [part('front', 'app == "web"'), part('back', 'app == "db"')],
      policies: [
        pol('web-out', 100, 'app == "web"', {
          egress: [{ action: 'allow', to: { partition: 'back' } }],
        }),
        pol('db-in', 100, 'app == "db"', {
          ingress: [{ action: 'allow', from: { partition: 'front' } }],
        }),
      ],
    }),
    flow: pg,
    verdict: 'allow',
    egress: { verdict: 'allow', by: 'web-out/egress[0]' },
    ingress: { verdict: 'allow', by: 'db-in/ingress[0]' },
  },
];

export const ERROR_CASES: ErrorCase[] = [
  {
    name: 'unknown source name',
    model: model({ records }),
    flow: { src: 'nope', dst: 'db', protocol: 'tcp', port: 1 },
    code: 'VNP_ERR_UNKNOWN_ENDPOINT',
    field: 'src',
  },
  {
    name: 'unknown destination (not an address either)',
    model: model({ records }),
    flow: { src: 'web', dst: '10.0.0.300', protocol: 'tcp', port: 1 },
    code: 'VNP_ERR_UNKNOWN_ENDPOINT',
    field: 'dst',
  },
];

/** Argument errors of the reference (docs/semantics.md): the engine may phrase its own. */
export const REFERENCE_ONLY_ERROR_CASES: ErrorCase[] = [
  {
    name: 'tcp without a port',
    model: model({ records }),
    flow: { src: 'web', dst: 'db', protocol: 'tcp' },
    code: 'VNP_ERR_VALIDATION',
    field: 'port',
  },
  {
    name: 'port 0',
    model: model({ records }),
    flow: { src: 'web', dst: 'db', protocol: 'udp', port: 0 },
    code: 'VNP_ERR_VALIDATION',
    field: 'port',
  },
];
