import { describe, expect, it } from 'vitest';
import { VnpError, type ErrorCode } from '../model/errors.js';
import { generateMac } from '../model/mac.js';
import {
  validateApplyDocument,
  validateDocument,
  validateInterfaceAddresses,
  validateResource,
  validateTestDocument,
} from './validate.js';

function errorOf(f: () => unknown): VnpError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VnpError);
    return e as VnpError;
  }
  throw new Error('no error thrown');
}

const subnet = { kind: 'Subnet', name: 'lan', cidr: '10.0.0.0/24' };
const iface = { kind: 'Interface', name: 'web-1', subnet: 'lan', ips: ['10.0.0.5'] };
const policy = { kind: 'Policy', name: 'web', priority: 100, appliesTo: 'app == "web"' };
const partition = { kind: 'Partition', name: 'pay', selector: 'team == "pay"' };
const reaction = {
  kind: 'Reaction',
  name: 'quarantine',
  on: 'ids.alert',
  addTags: { quarantine: true },
};
const instance = { kind: 'Instance', name: 'vm-1', host: 'node-a' };
const egress = (rule: unknown) => ({ ...policy, egress: [rule] });
const ingress = (rule: unknown) => ({ ...policy, ingress: [rule] });

describe('validateDocument: good documents are normalized', () => {
  const cases: [string, object, object][] = [
    ['Subnet', subnet, subnet],
    [
      'Subnet v6 canonical',
      { ...subnet, cidr: '2001:DB8:0::/48', vni: 42 },
      { ...subnet, cidr: '2001:db8::/48', vni: 42 },
    ],
    [
      'Subnet bare address is a /32',
      { ...subnet, cidr: '10.0.0.7' },
      { ...subnet, cidr: '10.0.0.7/32' },
    ],
    ['Instance', { ...instance, netns: 'ns-1' }, { ...instance, netns: 'ns-1' }],
    [
      'Interface defaults: tags {}, mac generated',
      iface,
      { ...iface, tags: {}, mac: generateMac('web-1') },
    ],
    [
      'Interface normalized',
      {
        ...iface,
        ips: ['10.0.0.5', '2001:DB8::0:1'],
        mac: '02-00-5E-10-00-01',
        tags: { env: 'prod', tier: 2 },
        securityGroups: ['sg-1'],
        instance: 'vm-1',
      },
      {
        ...iface,
        ips: ['10.0.0.5', '2001:db8::1'],
        mac: '02:00:5e:10:00:01',
        tags: { env: 'prod', tier: 2 },
        securityGroups: ['sg-1'],
        instance: 'vm-1',
      },
    ],
    ['Partition default intra', partition, { ...partition, intra: 'allow' }],
    [
      'Partition deny',
      { ...partition, intra: 'deny', description: 'PCI' },
      { ...partition, intra: 'deny', description: 'PCI' },
    ],
    [
      'Policy defaults',
      policy,
      { ...policy, ingress: [], egress: [], routes: [], mode: 'enforce' },
    ],
    [
      'Policy full',
      {
        ...policy,
        mode: 'audit',
        priority: 0,
        ingress: [
          {
            action: 'allow',
            from: { partition: 'pay' },
            ports: ['TCP/443', 'tcp/8000-8000', 'icmp'],
          },
        ],
        egress: [
          {
            action: 'deny',
            to: { cidr: '203.0.113.0/24', except: ['203.0.113.7', '203.0.113.8/29'] },
          },
          { action: 'log', to: { selector: 'app == "db"' }, description: 'db' },
          { action: 'allow' },
        ],
        routes: [{ to: { cidr: '0.0.0.0/0' }, ports: ['tcp/80'], via: 'fw-1' }, { via: 'fw-2' }],
      },
      {
        ...policy,
        mode: 'audit',
        priority: 0,
        ingress: [
          { action: 'allow', from: { partition: 'pay' }, ports: ['tcp/443', 'tcp/8000', 'icmp'] },
        ],
        egress: [
          {
            action: 'deny',
            to: { cidr: '203.0.113.0/24', except: ['203.0.113.7/32', '203.0.113.8/29'] },
          },
          { action: 'log', to: { selector: 'app == "db"' }, description: 'db' },
          { action: 'allow' },
        ],
        routes: [{ to: { cidr: '0.0.0.0/0' }, ports: ['tcp/80'], via: 'fw-1' }, { via: 'fw-2' }],
      },
    ],
    [
      'Policy rules with their own priorities',
      {
        ...policy,
        egress: [
          { action: 'allow', priority: 0 },
          { action: 'deny', priority: 65535 },
        ],
      },
      {
        ...policy,
        ingress: [],
        egress: [
          { action: 'allow', priority: 0 },
          { action: 'deny', priority: 65535 },
        ],
        routes: [],
        mode: 'enforce',
      },
    ],
    [
      'Policy priority 65535',
      { ...policy, priority: 65535 },
      { ...policy, priority: 65535, ingress: [], egress: [], routes: [], mode: 'enforce' },
    ],
    ['Reaction', reaction, reaction],
    [
      'Reaction full',
      { ...reaction, match: 'has(ids)', removeTags: ['trusted'], ttl: 60 },
      { ...reaction, match: 'has(ids)', removeTags: ['trusted'], ttl: 60 },
    ],
    [
      'Reaction remove only',
      { kind: 'Reaction', name: 'r', on: 'x', removeTags: ['a'] },
      { kind: 'Reaction', name: 'r', on: 'x', removeTags: ['a'] },
    ],
    [
      'Settings defaults filled',
      { kind: 'Settings', name: 'default' },
      {
        kind: 'Settings',
        name: 'default',
        defaults: { unpartitioned: 'allow', crossPartition: 'deny' },
      },
    ],
    [
      'Settings partial',
      { kind: 'Settings', defaults: { crossPartition: 'allow' } },
      {
        kind: 'Settings',
        name: 'default',
        defaults: { unpartitioned: 'allow', crossPartition: 'allow' },
      },
    ],
    [
      'metadata is dropped',
      {
        ...subnet,
        revision: 7,
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
      },
      subnet,
    ],
  ];
  it.each(cases)('%s', (_name, input, output) => {
    const snapshot = JSON.stringify(input);
    const out = validateDocument(input);
    expect(out).toEqual(output);
    expect(JSON.stringify(out)).not.toContain('undefined');
    expect(JSON.stringify(input)).toBe(snapshot); // the input is not mutated
    expect(validateDocument(out)).toEqual(out); // idempotent
  });
});

describe('validateDocument: every field rule names the field', () => {
  const V: ErrorCode = 'VNP_ERR_VALIDATION';
  const A: ErrorCode = 'VNP_ERR_ADDRESS';
  const S: ErrorCode = 'VNP_ERR_SELECTOR_SYNTAX';
  const T: ErrorCode = 'VNP_ERR_TAG_INVALID';
  const cases: [string, unknown, ErrorCode, string, RegExp?][] = [
    // document shape
    ['not an object', 'Subnet', V, '', /document: expected a document object/],
    ['array', [subnet], V, ''],
    ['no kind', { name: 'x' }, V, 'kind', /required/],
    ['unknown kind', { kind: 'Router', name: 'x' }, V, 'kind', /one of Subnet/],
    ['kind Test', { kind: 'Test', name: 'x' }, V, 'kind', /never stored/],
    ['unknown field', { ...subnet, foo: 1 }, V, 'foo', /unknown field "foo"/],
    ['unknown field with odd name', { ...subnet, 'a b': 1 }, V, '["a b"]', /unknown field "a b"/],
    // names
    ['no name', { kind: 'Subnet', cidr: '10.0.0.0/8' }, V, 'name', /required/],
    ['uppercase name', { ...subnet, name: 'Lan' }, V, 'name', /expected a name/],
    ['name too long', { ...subnet, name: 'a'.repeat(64) }, V, 'name'],
    ['name 63 ok but leading dash', { ...subnet, name: '-a' }, V, 'name'],
    ['name not a string', { ...subnet, name: 7 }, V, 'name', /found number 7/],
    // Subnet
    ['subnet no cidr', { kind: 'Subnet', name: 'x' }, V, 'cidr', /required/],
    [
      'subnet bad cidr',
      { ...subnet, cidr: '10.0.0/24' },
      A,
      'cidr',
      /expected an IPv4 or IPv6 prefix/,
    ],
    [
      'subnet host bits',
      { ...subnet, cidr: '10.0.0.1/24' },
      A,
      'cidr',
      /did you mean 10\.0\.0\.0\/24/,
    ],
    ['subnet cidr number', { ...subnet, cidr: 10 }, A, 'cidr'],
    ['vni 0', { ...subnet, vni: 0 }, V, 'vni', /1\.\.16777215/],
    ['vni too big', { ...subnet, vni: 16777216 }, V, 'vni'],
    ['vni float', { ...subnet, vni: 1.5 }, V, 'vni'],
    ['vni string', { ...subnet, vni: '5' }, V, 'vni'],
    // Instance
    ['instance no host', { kind: 'Instance', name: 'vm' }, V, 'host', /required/],
    ['instance bad host', { ...instance, host: 'a b' }, V, 'host'],
    ['instance bad netns', { ...instance, netns: '../x' }, V, 'netns'],
    // Interface
    ['iface no subnet', { ...iface, subnet: undefined }, V, 'subnet', /required/],
    ['iface no ips', { ...iface, ips: undefined }, V, 'ips', /required/],
    ['iface empty ips', { ...iface, ips: [] }, V, 'ips', /at least one address/],
    ['iface ips not array', { ...iface, ips: '10.0.0.5' }, V, 'ips', /an array/],
    [
      'iface bad ip',
      { ...iface, ips: ['10.0.0.5', '10.0.0.256'] },
      A,
      'ips[1]',
      /expected an IPv4 or IPv6 address/,
    ],
    ['iface ip with prefix', { ...iface, ips: ['10.0.0.5/24'] }, A, 'ips[0]'],
    ['iface ip leading zero', { ...iface, ips: ['10.0.0.05'] }, A, 'ips[0]'],
    [
      'iface duplicate ip',
      { ...iface, ips: ['10.0.0.5', '10.0.0.6', '10.0.0.5'] },
      A,
      'ips[2]',
      /same as ips\[0\]/,
    ],
    [
      'iface duplicate v6 spelled twice',
      { ...iface, ips: ['2001:db8::1', '2001:DB8:0::1'] },
      A,
      'ips[1]',
    ],
    ['iface bad mac', { ...iface, mac: '02:00:00:00:00' }, V, 'mac', /unicast MAC/],
    ['iface multicast mac', { ...iface, mac: '01:00:5e:00:00:01' }, V, 'mac', /unicast MAC/],
    ['iface bad tags', { ...iface, tags: { 'bad key': 1 } }, T, 'tags["bad key"]'],
    ['iface float tag', { ...iface, tags: { tier: 1.5 } }, T, 'tags.tier'],
    ['iface tags array', { ...iface, tags: ['a'] }, T, 'tags'],
    [
      'iface bad security group',
      { ...iface, securityGroups: ['ok', 'Bad'] },
      V,
      'securityGroups[1]',
    ],
    ['iface bad instance', { ...iface, instance: '' }, V, 'instance'],
    // Partition
    ['partition no selector', { kind: 'Partition', name: 'p' }, V, 'selector', /required/],
    [
      'partition bad selector',
      { ...partition, selector: 'team = "pay"' },
      S,
      'selector',
      /selector: column 6: expected a comparison operator/,
    ],
    ['partition selector not string', { ...partition, selector: { team: 'pay' } }, V, 'selector'],
    ['partition bad intra', { ...partition, intra: 'block' }, V, 'intra', /one of "allow", "deny"/],
    ['partition bad description', { ...partition, description: 5 }, V, 'description'],
    // Policy
    ['policy no priority', { ...policy, priority: undefined }, V, 'priority', /required/],
    ['policy negative priority', { ...policy, priority: -1 }, V, 'priority', /0\.\.65535/],
    ['policy priority too big', { ...policy, priority: 65536 }, V, 'priority'],
    ['policy priority float', { ...policy, priority: 1.5 }, V, 'priority'],
    ['policy priority string', { ...policy, priority: '5' }, V, 'priority'],
    ['policy no appliesTo', { ...policy, appliesTo: undefined }, V, 'appliesTo', /required/],
    ['policy bad appliesTo', { ...policy, appliesTo: 'env ==' }, S, 'appliesTo'],
    ['policy bad mode', { ...policy, mode: 'dry-run' }, V, 'mode'],
    ['policy egress not array', { ...policy, egress: { action: 'allow' } }, V, 'egress'],
    ['rule not object', egress('allow'), V, 'egress[0]'],
    [
      'rule negative priority',
      egress({ action: 'allow', priority: -1 }),
      V,
      'egress[0].priority',
      /0\.\.65535/,
    ],
    ['rule priority too big', egress({ action: 'deny', priority: 65536 }), V, 'egress[0].priority'],
    ['rule priority float', egress({ action: 'deny', priority: 2.5 }), V, 'egress[0].priority'],
    ['rule priority string', egress({ action: 'deny', priority: '9' }), V, 'egress[0].priority'],
    ['rule no action', egress({ to: { cidr: '10.0.0.0/8' } }), V, 'egress[0].action', /required/],
    [
      'rule bad action',
      egress({ action: 'permit' }),
      V,
      'egress[0].action',
      /"allow", "deny", "log"/,
    ],
    [
      'rule unknown field',
      egress({ action: 'allow', port: 80 }),
      V,
      'egress[0].port',
      /unknown field "port"/,
    ],
    [
      'egress rule with from',
      egress({ action: 'allow', from: { cidr: '10.0.0.0/8' } }),
      V,
      'egress[0].from',
      /egress rules name their peer with "to"/,
    ],
    [
      'ingress rule with to',
      ingress({ action: 'allow', to: { cidr: '10.0.0.0/8' } }),
      V,
      'ingress[0].to',
      /"from"/,
    ],
    [
      'peer empty',
      egress({ action: 'allow', to: {} }),
      V,
      'egress[0].to',
      /exactly one of selector, partition, cidr.*found none/,
    ],
    [
      'peer two',
      egress({ action: 'allow', to: { selector: 'all()', cidr: '10.0.0.0/8' } }),
      V,
      'egress[0].to',
      /found selector and cidr/,
    ],
    ['peer not object', egress({ action: 'allow', to: 'any' }), V, 'egress[0].to'],
    [
      'peer unknown field',
      egress({ action: 'allow', to: { cidr: '10.0.0.0/8', exclude: [] } }),
      V,
      'egress[0].to.exclude',
    ],
    [
      'peer bad selector',
      ingress({ action: 'allow', from: { selector: 'a in {}' } }),
      S,
      'ingress[0].from.selector',
    ],
    [
      'peer bad partition',
      egress({ action: 'allow', to: { partition: 'Pay' } }),
      V,
      'egress[0].to.partition',
    ],
    [
      'peer bad cidr',
      egress({ action: 'allow', to: { cidr: '10.0.0.1/8' } }),
      A,
      'egress[0].to.cidr',
      /host bits/,
    ],
    [
      'except with selector',
      egress({ action: 'allow', to: { selector: 'all()', except: ['10.0.0.0/8'] } }),
      V,
      'egress[0].to.except',
      /only with "cidr"/,
    ],
    [
      'except with partition',
      egress({ action: 'allow', to: { partition: 'p', except: [] } }),
      V,
      'egress[0].to.except',
    ],
    [
      'except not array',
      egress({ action: 'allow', to: { cidr: '10.0.0.0/8', except: '10.1.0.0/16' } }),
      V,
      'egress[0].to.except',
    ],
    [
      'except outside',
      egress({
        action: 'allow',
        to: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '11.0.0.0/8'] },
      }),
      A,
      'egress[0].to.except[1]',
      /inside 10\.0\.0\.0\/8/,
    ],
    [
      'except wider',
      egress({ action: 'allow', to: { cidr: '10.0.0.0/16', except: ['10.0.0.0/8'] } }),
      A,
      'egress[0].to.except[0]',
    ],
    [
      'except other family',
      egress({ action: 'allow', to: { cidr: '0.0.0.0/0', except: ['::/0'] } }),
      A,
      'egress[0].to.except[0]',
    ],
    [
      'except host bits',
      egress({ action: 'allow', to: { cidr: '10.0.0.0/8', except: ['10.0.0.1/24'] } }),
      A,
      'egress[0].to.except[0]',
    ],
    ['ports not array', egress({ action: 'allow', ports: 'tcp/80' }), V, 'egress[0].ports'],
    ['ports empty', egress({ action: 'allow', ports: [] }), V, 'egress[0].ports', /omit ports/],
    [
      'bad port',
      {
        ...policy,
        egress: [{ action: 'allow' }, { action: 'deny', ports: ['tcp/80', 'tcp/99999'] }],
      },
      V,
      'egress[1].ports[1]',
    ],
    ['port not string', egress({ action: 'allow', ports: [80] }), V, 'egress[0].ports[0]'],
    [
      'icmp with port',
      ingress({ action: 'allow', ports: ['icmp/8'] }),
      V,
      'ingress[0].ports[0]',
      /icmp takes no port/,
    ],
    [
      'route no via',
      { ...policy, routes: [{ to: { cidr: '0.0.0.0/0' } }] },
      V,
      'routes[0].via',
      /required/,
    ],
    [
      'route bad peer',
      { ...policy, routes: [{ via: 'fw', to: { cidr: 'x' } }] },
      A,
      'routes[0].to.cidr',
    ],
    [
      'route unknown field',
      { ...policy, routes: [{ via: 'fw', action: 'allow' }] },
      V,
      'routes[0].action',
    ],
    // Reaction
    ['reaction no on', { ...reaction, on: undefined }, V, 'on', /required/],
    ['reaction bad on', { ...reaction, on: 'has space' }, V, 'on'],
    ['reaction bad match', { ...reaction, match: '!' }, S, 'match'],
    ['reaction bad addTags', { ...reaction, addTags: { x: 1.5 } }, T, 'addTags.x'],
    ['reaction bad removeTags', { ...reaction, removeTags: ['ok', 'bad key'] }, T, 'removeTags[1]'],
    [
      'reaction does nothing',
      { kind: 'Reaction', name: 'r', on: 'x' },
      V,
      'addTags',
      /changes no tag/,
    ],
    ['reaction ttl 0', { ...reaction, ttl: 0 }, V, 'ttl'],
    ['reaction ttl float', { ...reaction, ttl: 1.5 }, V, 'ttl'],
    // Settings
    ['settings other name', { kind: 'Settings', name: 'mine' }, V, 'name', /"default"/],
    [
      'settings bad default',
      { kind: 'Settings', defaults: { unpartitioned: 'maybe' } },
      V,
      'defaults.unpartitioned',
    ],
    [
      'settings unknown default',
      { kind: 'Settings', defaults: { intra: 'deny' } },
      V,
      'defaults.intra',
    ],
    ['settings defaults not object', { kind: 'Settings', defaults: 'deny' }, V, 'defaults'],
  ];
  it.each(cases)('%s', (_name, doc, code, field, msg) => {
    const e = errorOf(() => validateDocument(doc));
    expect(e.code).toBe(code);
    expect(e.details?.field).toBe(field);
    if (field !== '') expect(e.message.startsWith(`${field}: `)).toBe(true);
    if (msg) expect(e.message).toMatch(msg);
  });

  it('selector errors keep the column and gain the field', () => {
    const e = errorOf(() =>
      validateDocument(ingress({ action: 'allow', from: { selector: 'env == "x" &&' } })),
    );
    expect(e.details).toMatchObject({ field: 'ingress[0].from.selector', column: 14 });
    expect(e.message).toBe(
      "ingress[0].from.selector: column 14: expected a test (all(), has(path), or a tag path and an operator), '!' or '(', found end of input",
    );
  });

  it('prefixes a base field', () => {
    const e = errorOf(() => validateDocument({ ...subnet, cidr: 'x' }, 'documents[3]'));
    expect(e.details?.field).toBe('documents[3].cidr');
  });
});

describe('validateResource', () => {
  it('takes the kind separately', () => {
    expect(validateResource('Partition', { name: 'pay', selector: 'all()' })).toEqual({
      kind: 'Partition',
      name: 'pay',
      selector: 'all()',
      intra: 'allow',
    });
  });
  it('accepts the same kind in the body, refuses another', () => {
    expect(validateResource('Subnet', subnet)).toEqual(subnet);
    const e = errorOf(() => validateResource('Partition', subnet));
    expect(e.details?.field).toBe('kind');
  });
  it('settings without a name', () => {
    expect(validateResource('Settings', { defaults: { unpartitioned: 'deny' } })).toEqual({
      kind: 'Settings',
      name: 'default',
      defaults: { unpartitioned: 'deny', crossPartition: 'deny' },
    });
  });
});

describe('validateTestDocument', () => {
  const test = {
    kind: 'Test',
    name: 't1',
    src: 'web-1',
    dst: '2001:DB8::1',
    proto: 'tcp',
    port: 443,
    expect: 'allow',
  };
  it('accepts and canonicalizes addresses', () => {
    expect(validateTestDocument(test)).toEqual({ ...test, dst: '2001:db8::1' });
    expect(
      validateTestDocument({ kind: 'Test', name: 't', src: 'a', dst: 'b', expect: 'deny' }),
    ).toEqual({
      kind: 'Test',
      name: 't',
      src: 'a',
      dst: 'b',
      expect: 'deny',
    });
    expect(validateApplyDocument(test)).toEqual({ ...test, dst: '2001:db8::1' });
    expect(validateApplyDocument(subnet)).toEqual(subnet);
  });
  const bad: [object, string][] = [
    [{ ...test, expect: 'pass' }, 'expect'],
    [{ ...test, expect: undefined }, 'expect'],
    [{ ...test, src: undefined }, 'src'],
    [{ ...test, src: 'Web 1' }, 'src'],
    [{ ...test, dst: 5 }, 'dst'],
    [{ ...test, proto: 'http' }, 'proto'],
    [{ ...test, port: 70000 }, 'port'],
    [{ ...test, name: 'T' }, 'name'],
    [{ ...test, extra: 1 }, 'extra'],
    [{ ...test, kind: 'Tests' }, 'kind'],
  ];
  it.each(bad)('rejects %j at %s', (doc, field) => {
    const e = errorOf(() => validateTestDocument(doc));
    expect(e.code).toBe('VNP_ERR_VALIDATION');
    expect(e.details?.field).toBe(field);
  });
});

describe('validateInterfaceAddresses', () => {
  const lan = { name: 'lan', cidr: '10.0.0.0/24' };
  it('accepts addresses inside the subnet', () => {
    expect(() =>
      validateInterfaceAddresses({ ips: ['10.0.0.5', '10.0.0.254'] }, lan),
    ).not.toThrow();
    expect(() =>
      validateInterfaceAddresses({ ips: ['2001:db8::5'] }, { name: 'v6', cidr: '2001:db8::/64' }),
    ).not.toThrow();
    expect(() =>
      validateInterfaceAddresses(
        { ips: ['10.0.0.0', '10.0.0.1'] },
        { name: 'p2p', cidr: '10.0.0.0/31' },
      ),
    ).not.toThrow();
  });
  const bad: [string[], string, RegExp][] = [
    [['10.0.0.5', '10.0.1.5'], 'ips[1]', /inside subnet lan \(10\.0\.0\.0\/24\)/],
    [['2001:db8::5'], 'ips[0]', /inside subnet lan/],
    [['10.0.0.0'], 'ips[0]', /not its network address/],
    [['10.0.0.255'], 'ips[0]', /not its broadcast address/],
  ];
  it.each(bad)('%j → %s', (ips, field, msg) => {
    const e = errorOf(() => validateInterfaceAddresses({ ips }, lan));
    expect(e.code).toBe('VNP_ERR_ADDRESS');
    expect(e.details?.field).toBe(field);
    expect(e.message).toMatch(msg);
  });
});
