/**
 * Shape and value validation of documents (design.md §1). `validateDocument`
 * takes untrusted input (YAML, JSON bodies) and returns a normalized copy with
 * defaults filled and addresses, prefixes, MACs and port specs in canonical form.
 * Every failure is a VnpError naming the full field path (`egress[2].to.cidr`,
 * `ips[1]`) in its message and `details.field`:
 *   VNP_ERR_VALIDATION (shape, names, enums, numbers, unknown fields),
 *   VNP_ERR_SELECTOR_SYNTAX (selector fields; details keep the column),
 *   VNP_ERR_TAG_INVALID (tags), VNP_ERR_ADDRESS (addresses and prefixes).
 *
 * Cross-resource rules (an interface's ips inside its subnet, references that
 * exist, addresses unique in a subnet) need other resources: see
 * `validateInterfaceAddresses` here and the engine/server for the rest.
 */
import { VnpError } from '../model/errors.js';
import { generateMac, isUnicastMac, normalizeMac } from '../model/mac.js';
import { cidrLast, formatCidr, formatIp } from '../model/net.js';
import { formatPortSpec, parsePortSpec } from '../model/ports.js';
import { validateTagKey, validateTags } from '../model/tags.js';
import {
  KINDS,
  PROTOCOLS,
  type Document,
  type Instance,
  type Interface,
  type Kind,
  type Partition,
  type Peer,
  type Policy,
  type Reaction,
  type SteeringRoute,
  type Rule,
  type Settings,
  type Subnet,
  type TestDocument,
} from '../model/types.js';
import {
  badAddress,
  checkArray,
  checkCidr,
  checkEnum,
  checkInt,
  checkIp,
  checkName,
  checkString,
  checkText,
  expectObject,
  fieldOf,
  invalid,
  missing,
  EVENT_TYPE_RE,
  HOST_RE,
  MAX_TTL_SECONDS,
  NETNS_RE,
} from '../model/validate-primitives.js';
import { checkSelector } from './selector-field.js';

export { validateInterfaceAddresses } from './interface-addresses.js';
import { indexField, isPlainObject, joinField } from '../model/validate-fields.js';

/** Server-set metadata: accepted on input (round-tripping `get -o yaml`) and dropped. */
const META = ['revision', 'createdAt', 'updatedAt'] as const;

const TARGET_RE = /^\S{1,255}$/;

/** Sets optional keys only when defined, so normalized copies carry no `undefined`. */
function withOptional<T extends object>(base: T, extra: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(extra))
    if (v !== undefined) (base as Record<string, unknown>)[k] = v;
  return base;
}

function optional<T>(
  o: Record<string, unknown>,
  key: string,
  check: (v: unknown) => T,
): T | undefined {
  const v = fieldOf(o, key);
  return v === undefined ? undefined : check(v);
}

function fields(extra: readonly string[]): string[] {
  return ['kind', 'name', ...extra];
}

const KIND_FIELDS: Record<Kind, string[]> = {
  Subnet: fields(['cidr', 'vni']),
  Instance: fields(['host', 'netns']),
  Interface: fields(['subnet', 'ips', 'mac', 'securityGroups', 'tags', 'instance']),
  Partition: fields(['selector', 'intra', 'description']),
  Policy: fields(['priority', 'appliesTo', 'ingress', 'egress', 'routes', 'mode', 'description']),
  Reaction: fields(['on', 'match', 'addTags', 'removeTags', 'ttl']),
  Settings: fields(['defaults']),
};

const at = (base: string, key: string): string => joinField(base, key);

function subnet(o: Record<string, unknown>, f: string): Subnet {
  const cidr = formatCidr(checkCidr(fieldOf(o, 'cidr'), at(f, 'cidr')));
  return withOptional<Subnet>(
    { name: checkName(fieldOf(o, 'name'), at(f, 'name')), cidr },
    { vni: optional(o, 'vni', (v) => checkInt(v, at(f, 'vni'), 1, 16_777_215)) },
  );
}

function instance(o: Record<string, unknown>, f: string): Instance {
  return withOptional<Instance>(
    {
      name: checkName(fieldOf(o, 'name'), at(f, 'name')),
      host: checkString(
        fieldOf(o, 'host'),
        at(f, 'host'),
        HOST_RE,
        'a host name ([A-Za-z0-9._-], 1..253)',
      ),
    },
    {
      netns: optional(o, 'netns', (v) =>
        checkString(
          v,
          at(f, 'netns'),
          NETNS_RE,
          'a network namespace name ([A-Za-z0-9._-], no "/")',
        ),
      ),
    },
  );
}

function names(v: unknown, field: string): string[] {
  return checkArray(v, field, 'names').map((x, i) => checkName(x, indexField(field, i)));
}

function iface(o: Record<string, unknown>, f: string): Interface {
  const name = checkName(fieldOf(o, 'name'), at(f, 'name'));
  const ipsField = at(f, 'ips');
  const raw = checkArray(fieldOf(o, 'ips'), ipsField, 'addresses');
  if (raw.length === 0) throw invalid(ipsField, 'at least one address (the first is primary)', raw);
  const seen = new Map<string, number>();
  const ips = raw.map((x, i) => {
    const text = formatIp(checkIp(x, indexField(ipsField, i)));
    const dup = seen.get(text);
    if (dup !== undefined) {
      throw badAddress(
        indexField(ipsField, i),
        `an address not listed before`,
        x,
        ` (same as ips[${dup}])`,
      );
    }
    seen.set(text, i);
    return text;
  });
  const macRaw = fieldOf(o, 'mac');
  let mac: string;
  if (macRaw === undefined) mac = generateMac(name);
  else {
    const m = typeof macRaw === 'string' ? normalizeMac(macRaw) : undefined;
    if (m === undefined || !isUnicastMac(m)) {
      throw invalid(at(f, 'mac'), 'a unicast MAC address, e.g. 02:00:00:00:00:01', macRaw);
    }
    mac = m;
  }
  const tagsRaw = fieldOf(o, 'tags');
  return withOptional<Interface>(
    {
      name,
      subnet: checkName(fieldOf(o, 'subnet'), at(f, 'subnet')),
      ips,
      mac,
      tags: tagsRaw === undefined ? {} : validateTags(tagsRaw, at(f, 'tags')),
    },
    {
      securityGroups: optional(o, 'securityGroups', (v) => names(v, at(f, 'securityGroups'))),
      instance: optional(o, 'instance', (v) => checkName(v, at(f, 'instance'))),
    },
  );
}

function partition(o: Record<string, unknown>, f: string): Partition {
  return withOptional<Partition>(
    {
      name: checkName(fieldOf(o, 'name'), at(f, 'name')),
      selector: checkSelector(fieldOf(o, 'selector'), at(f, 'selector')),
      intra:
        optional(o, 'intra', (v) => checkEnum(v, at(f, 'intra'), ['allow', 'deny'] as const)) ??
        'allow',
    },
    { description: optional(o, 'description', (v) => checkText(v, at(f, 'description'))) },
  );
}

/**
 * A rule peer: exactly one of selector, partition, cidr; `except` only with cidr,
 * each exception inside the cidr and of its family.
 */
function peer(v: unknown, f: string): Peer {
  const o = expectObject(v, f, ['selector', 'partition', 'cidr', 'except']);
  const given = (['selector', 'partition', 'cidr'] as const).filter(
    (k) => fieldOf(o, k) !== undefined,
  );
  if (given.length !== 1) {
    const found = given.length === 0 ? 'none' : given.join(' and ');
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${f}: expected exactly one of selector, partition, cidr (omit the peer for any), found ${found}`,
      { field: f, expected: 'exactly one of selector, partition, cidr' },
    );
  }
  if (given[0] === 'selector') {
    if (fieldOf(o, 'except') !== undefined) throw exceptWithoutCidr(f);
    return { selector: checkSelector(fieldOf(o, 'selector'), at(f, 'selector')) };
  }
  if (given[0] === 'partition') {
    if (fieldOf(o, 'except') !== undefined) throw exceptWithoutCidr(f);
    return { partition: checkName(fieldOf(o, 'partition'), at(f, 'partition')) };
  }
  const cidr = checkCidr(fieldOf(o, 'cidr'), at(f, 'cidr'));
  const exceptRaw = fieldOf(o, 'except');
  if (exceptRaw === undefined) return { cidr: formatCidr(cidr) };
  const ef = at(f, 'except');
  const except = checkArray(exceptRaw, ef, 'prefixes').map((x, i) => {
    const e = checkCidr(x, indexField(ef, i));
    if (e.family !== cidr.family || e.base < cidr.base || cidrLast(e) > cidrLast(cidr)) {
      throw badAddress(indexField(ef, i), `a prefix inside ${formatCidr(cidr)}`, x);
    }
    return formatCidr(e);
  });
  return { cidr: formatCidr(cidr), except };
}

function exceptWithoutCidr(f: string): VnpError {
  const field = at(f, 'except');
  return new VnpError('VNP_ERR_VALIDATION', `${field}: "except" is allowed only with "cidr"`, {
    field,
    expected: 'except only beside cidr',
  });
}

function ports(v: unknown, f: string): string[] {
  const list = checkArray(v, f, 'port specs');
  if (list.length === 0) throw invalid(f, '1+ port specs (omit ports for all traffic)', list);
  return list.map((x, i) => {
    const field = indexField(f, i);
    if (typeof x !== 'string') throw invalid(field, 'a port spec such as tcp/443, udp, icmp', x);
    return formatPortSpec(parsePortSpec(x, field));
  });
}

function rule(v: unknown, f: string, direction: 'ingress' | 'egress'): Rule {
  const peerKey = direction === 'ingress' ? 'from' : 'to';
  const other = direction === 'ingress' ? 'to' : 'from';
  if (typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, other)) {
    const field = at(f, other);
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${field}: unknown field "${other}": ${direction} rules name their peer with "${peerKey}"`,
      { field, expected: `"${peerKey}"` },
    );
  }
  const o = expectObject(v, f, ['action', peerKey, 'ports', 'priority', 'description']);
  return withOptional<Rule>(
    { action: checkEnum(fieldOf(o, 'action'), at(f, 'action'), ['allow', 'deny', 'log'] as const) },
    {
      [peerKey]: optional(o, peerKey, (p) => peer(p, at(f, peerKey))),
      ports: optional(o, 'ports', (p) => ports(p, at(f, 'ports'))),
      priority: optional(o, 'priority', (p) => checkInt(p, at(f, 'priority'), 0, 65535)),
      description: optional(o, 'description', (d) => checkText(d, at(f, 'description'))),
    },
  );
}

function route(v: unknown, f: string): SteeringRoute {
  const o = expectObject(v, f, ['to', 'ports', 'via']);
  return withOptional<SteeringRoute>(
    { via: checkName(fieldOf(o, 'via'), at(f, 'via')) },
    {
      to: optional(o, 'to', (p) => peer(p, at(f, 'to'))),
      ports: optional(o, 'ports', (p) => ports(p, at(f, 'ports'))),
    },
  );
}

function list<T>(
  o: Record<string, unknown>,
  key: string,
  f: string,
  item: (v: unknown, f: string) => T,
): T[] {
  const field = at(f, key);
  const v = fieldOf(o, key);
  if (v === undefined) return [];
  return checkArray(v, field, 'entries').map((x, i) => item(x, indexField(field, i)));
}

function policy(o: Record<string, unknown>, f: string): Policy {
  return withOptional<Policy>(
    {
      name: checkName(fieldOf(o, 'name'), at(f, 'name')),
      priority: checkInt(fieldOf(o, 'priority'), at(f, 'priority'), 0, 65535),
      appliesTo: checkSelector(fieldOf(o, 'appliesTo'), at(f, 'appliesTo')),
      ingress: list(o, 'ingress', f, (v, rf) => rule(v, rf, 'ingress')),
      egress: list(o, 'egress', f, (v, rf) => rule(v, rf, 'egress')),
      routes: list(o, 'routes', f, route),
      mode:
        optional(o, 'mode', (v) => checkEnum(v, at(f, 'mode'), ['enforce', 'audit'] as const)) ??
        'enforce',
    },
    { description: optional(o, 'description', (v) => checkText(v, at(f, 'description'))) },
  );
}

function reaction(o: Record<string, unknown>, f: string): Reaction {
  const r = withOptional<Reaction>(
    {
      name: checkName(fieldOf(o, 'name'), at(f, 'name')),
      on: checkString(
        fieldOf(o, 'on'),
        at(f, 'on'),
        EVENT_TYPE_RE,
        'an event type ([A-Za-z0-9._:/-], 1..128)',
      ),
    },
    {
      match: optional(o, 'match', (v) => checkSelector(v, at(f, 'match'))),
      addTags: optional(o, 'addTags', (v) => validateTags(v, at(f, 'addTags'))),
      removeTags: optional(o, 'removeTags', (v) => {
        const field = at(f, 'removeTags');
        return checkArray(v, field, 'tag keys').map((k, i) =>
          validateTagKey(k, indexField(field, i)),
        );
      }),
      ttl: optional(o, 'ttl', (v) => checkInt(v, at(f, 'ttl'), 1, MAX_TTL_SECONDS)),
    },
  );
  if (Object.keys(r.addTags ?? {}).length === 0 && (r.removeTags ?? []).length === 0) {
    throw missing(
      at(f, 'addTags'),
      'addTags or removeTags: a reaction that changes no tag does nothing',
    );
  }
  return r;
}

function settings(o: Record<string, unknown>, f: string): Settings {
  const name = fieldOf(o, 'name') ?? 'default';
  if (name !== 'default')
    throw invalid(at(f, 'name'), '"default" (there is one Settings resource)', name);
  const df = at(f, 'defaults');
  const d = expectObject(fieldOf(o, 'defaults') ?? {}, df, ['unpartitioned', 'crossPartition']);
  const verdict = (k: string, dflt: 'allow' | 'deny'): 'allow' | 'deny' =>
    optional(d, k, (v) => checkEnum(v, at(df, k), ['allow', 'deny'] as const)) ?? dflt;
  return {
    name: 'default',
    defaults: {
      unpartitioned: verdict('unpartitioned', 'allow'),
      crossPartition: verdict('crossPartition', 'deny'),
    },
  };
}

const BUILDERS: {
  [K in Kind]: (
    o: Record<string, unknown>,
    f: string,
  ) => Omit<Extract<Document, { kind: K }>, 'kind'>;
} = {
  Subnet: subnet,
  Instance: instance,
  Interface: iface,
  Partition: partition,
  Policy: policy,
  Reaction: reaction,
  Settings: settings,
};

function checkKind(v: unknown, field: string): Kind {
  if (v === undefined) throw missing(field, `one of ${KINDS.join(', ')}`);
  if (typeof v !== 'string' || !(KINDS as readonly string[]).includes(v)) {
    const hint = v === 'Test' ? ' (kind: Test documents are checked, never stored)' : '';
    throw invalid(field, `one of ${KINDS.join(', ')}${hint}`, v);
  }
  return v as Kind;
}

/**
 * Validates a REST body of a known kind (the body may omit `kind`, or repeat the
 * same one) and returns the normalized document, `kind` included.
 *
 * @example validateResource('Partition', { name: 'pay', selector: 'team == "pay"' })
 *   // { kind: 'Partition', name: 'pay', selector: 'team == "pay"', intra: 'allow' }
 */
export function validateResource<K extends Kind>(
  kind: K,
  body: unknown,
  field = '',
): Extract<Document, { kind: K }> {
  // A mismatched kind explains the body better than its "unknown" fields would.
  const k = isPlainObject(body) ? fieldOf(body, 'kind') : undefined;
  if (k !== undefined && k !== kind)
    throw invalid(joinField(field, 'kind'), JSON.stringify(kind), k);
  const o = expectObject(body, field, KIND_FIELDS[kind], META);
  const built = BUILDERS[kind](o, field);
  return { kind, ...built } as Extract<Document, { kind: K }>;
}

/**
 * Validates any of the seven kinds and returns a normalized copy: defaults filled
 * (Partition.intra, Policy ingress/egress/routes/mode, Settings.defaults,
 * Interface tags and mac), addresses and port specs canonical, metadata dropped.
 *
 * @example validateDocument({ kind: 'Subnet', name: 'lan', cidr: '10.0.0.0/24' })
 *   // { kind: 'Subnet', name: 'lan', cidr: '10.0.0.0/24' }
 * @example validateDocument({ kind: 'Policy', name: 'p', priority: 10, appliesTo: 'all()', egress: [{ action: 'allow', to: { cidr: '10.0.0.1/8' } }] })
 *   // throws VNP_ERR_ADDRESS: "egress[0].to.cidr: expected a prefix with its host bits zero, ..."
 */
export function validateDocument(doc: unknown, field = ''): Document {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(field, 'a document object', doc);
  const kind = checkKind(fieldOf(doc as Record<string, unknown>, 'kind'), joinField(field, 'kind'));
  return validateResource(kind, doc, field);
}

const TEST_FIELDS = ['kind', 'name', 'src', 'dst', 'proto', 'port', 'expect'];
const ENDPOINT_EXPECTED = 'a record name or an IP address';

function endpoint(v: unknown, field: string): string {
  if (v === undefined) throw missing(field, ENDPOINT_EXPECTED);
  if (typeof v !== 'string' || !TARGET_RE.test(v)) throw invalid(field, ENDPOINT_EXPECTED, v);
  const ip = checkIpOrUndefined(v);
  if (ip !== undefined) return ip;
  return checkString(v, field, /^[a-z0-9][a-z0-9._-]{0,62}$/, ENDPOINT_EXPECTED);
}

function checkIpOrUndefined(v: string): string | undefined {
  try {
    return formatIp(checkIp(v, ''));
  } catch {
    return undefined;
  }
}

/**
 * Validates a `kind: Test` document (`{name, src, dst, proto?, port?, expect}`);
 * addresses in src/dst are canonicalized.
 *
 * @example validateTestDocument({ kind: 'Test', name: 't', src: 'web-1', dst: '10.0.0.5', proto: 'tcp', port: 443, expect: 'allow' })
 */
export function validateTestDocument(doc: unknown, field = ''): TestDocument {
  const o = expectObject(doc, field, TEST_FIELDS, META);
  const k = fieldOf(o, 'kind');
  if (k !== 'Test') throw invalid(joinField(field, 'kind'), '"Test"', k);
  return withOptional<TestDocument>(
    {
      kind: 'Test',
      name: checkName(fieldOf(o, 'name'), joinField(field, 'name')),
      src: endpoint(fieldOf(o, 'src'), joinField(field, 'src')),
      dst: endpoint(fieldOf(o, 'dst'), joinField(field, 'dst')),
      expect: checkEnum(fieldOf(o, 'expect'), joinField(field, 'expect'), [
        'allow',
        'deny',
      ] as const),
    },
    {
      proto: optional(o, 'proto', (v) => checkEnum(v, joinField(field, 'proto'), PROTOCOLS)),
      port: optional(o, 'port', (v) => checkInt(v, joinField(field, 'port'), 0, 65535)),
    },
  );
}

/**
 * For `apply`: a stored kind or a `kind: Test` document.
 *
 * @example validateApplyDocument({ kind: 'Test', ... }) // TestDocument
 */
export function validateApplyDocument(doc: unknown, field = ''): Document | TestDocument {
  if (typeof doc === 'object' && doc !== null && (doc as Record<string, unknown>).kind === 'Test') {
    return validateTestDocument(doc, field);
  }
  return validateDocument(doc, field);
}
