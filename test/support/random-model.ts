/**
 * Random, consistent models, flows and changes for differential tests and benchmarks.
 * Vocabularies are deliberately small so that selectors match, priorities tie,
 * CIDRs overlap records and port ranges touch: the interesting cases of §2 happen
 * often. Everything derives from a seeded Rng (see rng.ts), so a seed reproduces.
 */
import type {
  Interface,
  Partition,
  Peer,
  Policy,
  Rule,
  Settings,
  Subnet,
  Tags,
  TagValue,
} from '../../src/model/types.js';
import type { Change, CheckRequest } from '../../src/engine/index.js';
import type { OracleModel } from './oracle/oracle-model.js';
import { applyOracleChanges } from './oracle/oracle-model.js';
import type { Rng } from './rng.js';
import { formatIp, parseCidr } from '../../src/model/net.js';

/** Sizes of a random model. */
export interface RandomModelOptions {
  /** Interface records (default 8). */
  records?: number;
  /** Policies (default 6). */
  policies?: number;
  /** Partitions, at most (default 3). */
  partitions?: number;
  /** Rules per direction per policy, at most (default 3). */
  rulesPerSide?: number;
}

/** The fixed subnets every random model uses (two IPv4, one IPv6). */
export const RANDOM_SUBNETS: readonly Subnet[] = [
  { name: 'net-a', cidr: '10.1.0.0/24', vni: 101 },
  { name: 'net-b', cidr: '10.2.0.0/24', vni: 102 },
  { name: 'net-6', cidr: 'fd00:1::/64' },
];

/**
 * Subnets for big models (benchmarks): records beyond SMALL_CAPACITY get sequential
 * addresses here, room for millions.
 */
export const BIG_SUBNETS: readonly Subnet[] = [
  { name: 'net-big4', cidr: '10.128.0.0/9', vni: 128 },
  { name: 'net-big6', cidr: 'fd00:2::/64' },
];

/** Models with more records than this use BIG_SUBNETS (the small subnets hold 40 hosts each). */
export const SMALL_CAPACITY = 30;

/** Addresses held by no random record: some inside the subnets, some far outside. */
export const OUTSIDE_ADDRESSES: readonly string[] = [
  '10.1.0.200',
  '10.2.0.99',
  '192.0.2.7',
  '192.0.2.200',
  '198.51.100.1',
  'fd00:1::ff',
  '2001:db8::7',
  '2001:db8:1::1',
];

/** CIDR peers with exceptions inside them (so `except` really removes addresses). */
const CIDR_PEERS: readonly { cidr: string; excepts: string[] }[] = [
  { cidr: '10.1.0.0/24', excepts: ['10.1.0.0/28', '10.1.0.5/32', '10.1.0.128/25'] },
  { cidr: '10.1.0.0/28', excepts: ['10.1.0.4/30', '10.1.0.1/32'] },
  { cidr: '10.2.0.0/24', excepts: ['10.2.0.0/27'] },
  { cidr: '10.0.0.0/8', excepts: ['10.2.0.0/16', '10.1.0.0/26'] },
  { cidr: '192.0.2.0/24', excepts: ['192.0.2.0/25', '192.0.2.7/32'] },
  { cidr: '0.0.0.0/0', excepts: ['10.0.0.0/8', '192.0.2.0/24'] },
  { cidr: 'fd00:1::/64', excepts: ['fd00:1::/120', 'fd00:1::5/128'] },
  { cidr: 'fd00:1::/120', excepts: ['fd00:1::/124'] },
  { cidr: '2001:db8::/32', excepts: ['2001:db8::/64'] },
  { cidr: '::/0', excepts: ['fd00:1::/64'] },
];

/** Selector atoms covering every operator, JSON paths, quoted keys and type mismatches. */
const SELECTOR_ATOMS: readonly string[] = [
  'env == "prod"',
  "env == 'dev'",
  'env != "prod"',
  'env in {"prod","test"}',
  'env not in {"dev"}',
  'tier >= 2',
  'tier == 2',
  'tier == "2"',
  'tier < 3',
  'tier != 1',
  'pci == true',
  'pci != true',
  'has(pci)',
  '!has(quarantine)',
  'has(quarantine)',
  'app == "web"',
  'app == "db"',
  'app in {"api","cache"}',
  'owner.team == "pay"',
  'owner.team in {"pay","risk"}',
  'owner.cc > 41',
  'has(owner.team)',
  '["k8s.io/name"] == "web"',
  'all()',
];

const PORT_SPECS: readonly string[] = [
  'tcp/443',
  'tcp/80',
  'tcp/8000-8099',
  'tcp/8050',
  'tcp/8099-8100',
  'tcp/1-1024',
  'tcp/65535',
  'tcp',
  'udp/53',
  'udp',
  'sctp/9',
  'sctp',
  'icmp',
];

/** Ports flows use: the edges of the specs above and a few others. */
const FLOW_PORTS: readonly number[] = [
  443, 80, 53, 9, 1, 1024, 1025, 8000, 8049, 8050, 8051, 8099, 8100, 8101, 65535, 22,
];

/** Few distinct priorities so that ties are common. */
const PRIORITIES: readonly number[] = [0, 100, 100, 100, 200, 65535];

const TAG_VOCAB: readonly { key: string; values: readonly TagValue[] }[] = [
  { key: 'env', values: ['prod', 'dev', 'test'] },
  { key: 'tier', values: [1, 2, 3, '2'] },
  { key: 'pci', values: [true, false] },
  { key: 'app', values: ['web', 'db', 'api', 'cache'] },
  {
    key: 'owner',
    values: [
      { team: 'pay', cc: 41 },
      { team: 'risk', cc: 42 },
      { team: 'ops', cc: 40 },
      { cc: 43 },
      ['pay', 'risk'],
    ],
  },
  { key: 'k8s.io/name', values: ['web', 'db'] },
  { key: 'quarantine', values: [true] },
];

/**
 * A random model: subnets v4+v6, records with 1–3 addresses and random typed tags,
 * partitions (intra allow/deny), policies (small priority set, audit ones, every peer
 * kind, port mixes) and random default settings.
 *
 * @example
 *   const model = randomModel(makeRng(7), { records: 10, policies: 5 });
 */
export function randomModel(rng: Rng, opts: RandomModelOptions = {}): OracleModel {
  const nRecords = opts.records ?? 8;
  const nPolicies = opts.policies ?? 6;
  const maxPartitions = opts.partitions ?? 3;
  const rulesPerSide = opts.rulesPerSide ?? 3;
  const used = new Set<string>();
  const interfaces: Interface[] = [];
  const big = nRecords > SMALL_CAPACITY;
  for (let i = 0; i < nRecords; i++) {
    interfaces.push(big ? bigRecord(rng, `r${i}`, used) : randomRecord(rng, `r${i}`, used));
  }
  const partitions: Partition[] = [];
  const nPartitions = rng.int(0, maxPartitions);
  for (let i = 0; i < nPartitions; i++) partitions.push(randomPartition(rng, `part${i}`));
  const partitionNames = partitions.map((p) => p.name);
  const policies: Policy[] = [];
  for (let i = 0; i < nPolicies; i++)
    policies.push(randomPolicy(rng, `p${i}`, partitionNames, rulesPerSide));
  return {
    subnets: [...RANDOM_SUBNETS, ...(big ? BIG_SUBNETS : [])].map((s) => ({ ...s })),
    instances: [],
    interfaces,
    partitions,
    policies,
    settings: randomSettings(rng),
  };
}

/**
 * n random flows over the model: record→record by name and by (secondary) address,
 * record↔outside address both ways, same record, outside→outside; every protocol.
 *
 * @example
 *   for (const req of randomFlows(rng, model, 100)) oracleCheck(model, req);
 */
export function randomFlows(rng: Rng, model: OracleModel, n: number): CheckRequest[] {
  const flows: CheckRequest[] = [];
  for (let i = 0; i < n; i++) flows.push({ ...randomEndpoints(rng, model), ...randomTraffic(rng) });
  return flows;
}

/**
 * One random change of the model: retag/add/delete/readdress a record, add/delete/
 * modify a policy, add/modify/delete a partition, or flip the settings. Returns the
 * change and the model after it.
 *
 * @example
 *   const { model: next, change } = randomChange(rng, model); engine.apply([change], 1);
 */
export function randomChange(rng: Rng, model: OracleModel): { model: OracleModel; change: Change } {
  const change = pickChange(rng, model);
  return { model: applyOracleChanges(model, [change]), change };
}

function pickChange(rng: Rng, model: OracleModel): Change {
  const roll = rng.int(0, 99);
  if (roll < 30 && model.interfaces.length > 0) return retagRecord(rng, model);
  if (roll < 36) return addRecord(rng, model);
  if (roll < 40 && model.interfaces.length > 0) {
    return { op: 'delete', kind: 'Interface', name: rng.pick(model.interfaces).name };
  }
  if (roll < 45 && model.interfaces.length > 0) return readdressRecord(rng, model);
  if (roll < 55) {
    const name = freshName(
      'p',
      model.policies.map((p) => p.name),
    );
    return putDoc({ kind: 'Policy', ...randomPolicy(rng, name, partitionNames(model), 3) });
  }
  if (roll < 62 && model.policies.length > 0) {
    return { op: 'delete', kind: 'Policy', name: rng.pick(model.policies).name };
  }
  if (roll < 80 && model.policies.length > 0) return modifyPolicy(rng, model);
  if (roll < 93) return changePartition(rng, model);
  return putDoc({ kind: 'Settings', ...randomSettings(rng) });
}

function putDoc(
  doc: Change extends infer C ? (C extends { op: 'put'; doc: infer D } ? D : never) : never,
): Change {
  return { op: 'put', doc };
}

function retagRecord(rng: Rng, model: OracleModel): Change {
  const record = structuredClone(rng.pick(model.interfaces));
  const edits = rng.int(1, 2);
  for (let i = 0; i < edits; i++) {
    const vocab = rng.pick(TAG_VOCAB);
    if (vocab.key in record.tags && rng.chance(0.4)) delete record.tags[vocab.key];
    else record.tags[vocab.key] = structuredClone(rng.pick(vocab.values));
  }
  return putDoc({ kind: 'Interface', ...record });
}

function addRecord(rng: Rng, model: OracleModel): Change {
  const name = freshName(
    'r',
    model.interfaces.map((r) => r.name),
  );
  const used = usedAddresses(model);
  const big = model.subnets.some((s) => s.name === BIG_SUBNETS[0]!.name);
  return putDoc({
    kind: 'Interface',
    ...(big ? bigRecord(rng, name, used) : randomRecord(rng, name, used)),
  });
}

/** Moves a record to fresh addresses (same subnet), sometimes adding a secondary one. */
function readdressRecord(rng: Rng, model: OracleModel): Change {
  const record = structuredClone(rng.pick(model.interfaces));
  const used = usedAddresses(model);
  const subnet =
    [...RANDOM_SUBNETS, ...BIG_SUBNETS].find((s) => s.name === record.subnet) ?? RANDOM_SUBNETS[0]!;
  const count = rng.int(1, 3);
  record.ips = [];
  for (let i = 0; i < count; i++) {
    const address = isBig(subnet) ? bigAddress(rng, subnet, used) : freshAddress(rng, subnet, used);
    if (address === undefined) break;
    record.ips.push(address);
  }
  // A full subnet: keep the old addresses, change the tags instead.
  if (record.ips.length === 0) return retagRecord(rng, model);
  return putDoc({ kind: 'Interface', ...record });
}

function modifyPolicy(rng: Rng, model: OracleModel): Change {
  const policy = structuredClone(rng.pick(model.policies));
  const what = rng.int(0, 6);
  if (what === 0) policy.priority = rng.pick(PRIORITIES);
  else if (what === 6) setRulePriority(rng, policy);
  else if (what === 1) policy.mode = policy.mode === 'audit' ? 'enforce' : 'audit';
  else if (what === 2) policy.appliesTo = randomSelector(rng);
  else {
    const side = rng.chance(0.5) ? policy.ingress : policy.egress;
    if (side.length > 0 && rng.chance(0.5)) side.splice(rng.int(0, side.length - 1), 1);
    else side.push(randomRule(rng, partitionNames(model), side === policy.ingress ? 'from' : 'to'));
  }
  return putDoc({ kind: 'Policy', ...policy });
}

/** Gives one rule its own priority, or takes it away (falls back to the policy's). */
function setRulePriority(rng: Rng, policy: Policy): void {
  const rules = [...policy.ingress, ...policy.egress];
  if (rules.length === 0) return;
  const rule = rng.pick(rules);
  if (rule.priority !== undefined && rng.chance(0.4)) delete rule.priority;
  else rule.priority = rng.pick(PRIORITIES);
}

/** Adds, modifies, or deletes (only when no rule names it) a partition. */
function changePartition(rng: Rng, model: OracleModel): Change {
  const existing = model.partitions;
  if (existing.length === 0 || rng.chance(0.3)) {
    const name = freshName(
      'part',
      existing.map((p) => p.name),
    );
    return putDoc({ kind: 'Partition', ...randomPartition(rng, name) });
  }
  const partition = structuredClone(rng.pick(existing));
  if (rng.chance(0.3) && !partitionReferenced(model, partition.name)) {
    return { op: 'delete', kind: 'Partition', name: partition.name };
  }
  if (rng.chance(0.5)) partition.intra = partition.intra === 'allow' ? 'deny' : 'allow';
  else partition.selector = randomSelector(rng);
  return putDoc({ kind: 'Partition', ...partition });
}

function partitionReferenced(model: OracleModel, name: string): boolean {
  return model.policies.some((p) =>
    [...p.ingress.map((r) => r.from), ...p.egress.map((r) => r.to)].some(
      (peer) => peer?.partition === name,
    ),
  );
}

function randomRecord(rng: Rng, name: string, used: Set<string>): Interface {
  const withRoom = RANDOM_SUBNETS.filter((s) => hostsUsed(s, used) < SMALL_HOSTS);
  if (withRoom.length === 0)
    throw new Error(
      'random-model: small subnets full; use more than SMALL_CAPACITY records for big subnets',
    );
  const subnet = rng.pick(withRoom);
  const count = rng.chance(0.7) ? 1 : rng.int(2, 3);
  const ips: string[] = [];
  for (let i = 0; i < count; i++) {
    const address = freshAddress(rng, subnet, used);
    if (address !== undefined) ips.push(address);
  }
  return { name, subnet: subnet.name, ips, tags: randomTags(rng) };
}

/** Host numbers 1..SMALL_HOSTS of the small subnets hold records. */
const SMALL_HOSTS = 40;

function hostsUsed(subnet: Subnet, used: Set<string>): number {
  let n = 0;
  for (let host = 1; host <= SMALL_HOSTS; host++) if (used.has(hostAddress(subnet, host))) n++;
  return n;
}

/** An address in the subnet, host part 1..40, not yet used (and then marked used); undefined when full. */
function freshAddress(rng: Rng, subnet: Subnet, used: Set<string>): string | undefined {
  if (hostsUsed(subnet, used) >= SMALL_HOSTS) return undefined;
  for (;;) {
    const host = rng.int(1, SMALL_HOSTS);
    const address = hostAddress(subnet, host);
    if (!used.has(address)) {
      used.add(address);
      return address;
    }
  }
}

function isBig(subnet: Subnet): boolean {
  return BIG_SUBNETS.some((b) => b.name === subnet.name);
}

/** A record of a big model: 70% IPv4, 20% with a secondary address. */
function bigRecord(rng: Rng, name: string, used: Set<string>): Interface {
  const subnet = rng.chance(0.7) ? BIG_SUBNETS[0]! : BIG_SUBNETS[1]!;
  const ips = [bigAddress(rng, subnet, used)];
  if (rng.chance(0.2)) ips.push(bigAddress(rng, subnet, used));
  return { name, subnet: subnet.name, ips, tags: randomTags(rng) };
}

/** The next free sequential address of a big subnet (never its network address). */
function bigAddress(_rng: Rng, subnet: Subnet, used: Set<string>): string {
  const base = parseCidr(subnet.cidr)!;
  for (let n = used.size + 1; ; n++) {
    const address = formatIp({ family: base.family, value: base.base + BigInt(n) });
    if (!used.has(address)) {
      used.add(address);
      return address;
    }
  }
}

function hostAddress(subnet: Subnet, host: number): string {
  if (subnet.cidr.includes(':')) return subnet.cidr.replace('::/64', `::${host.toString(16)}`);
  return subnet.cidr.replace(/\.0\/24$/, `.${host}`);
}

function usedAddresses(model: OracleModel): Set<string> {
  return new Set(model.interfaces.flatMap((r) => r.ips));
}

/**
 * Random tags from the generators' vocabulary (typed values, JSON objects, arrays).
 *
 * @example engine.getPolicyForTags(randomTags(rng));
 */
export function randomTags(rng: Rng): Tags {
  const tags: Tags = {};
  for (const vocab of TAG_VOCAB) {
    const p = vocab.key === 'quarantine' ? 0.1 : 0.6;
    if (rng.chance(p)) tags[vocab.key] = structuredClone(rng.pick(vocab.values));
  }
  return tags;
}

function randomSelector(rng: Rng): string {
  const a = (): string => rng.pick(SELECTOR_ATOMS);
  const shape = rng.int(0, 9);
  if (shape < 5) return a();
  if (shape < 7) return `${a()} && ${a()}`;
  if (shape < 8) return `${a()} || ${a()}`;
  if (shape < 9) return `!(${a()})`;
  return `(${a()} || ${a()}) && ${a()}`;
}

function randomPartition(rng: Rng, name: string): Partition {
  return { name, selector: randomSelector(rng), intra: rng.chance(0.4) ? 'deny' : 'allow' };
}

function randomPolicy(
  rng: Rng,
  name: string,
  partitions: readonly string[],
  rulesPerSide: number,
): Policy {
  const ingress: Rule[] = [];
  const egress: Rule[] = [];
  for (let i = rng.int(0, rulesPerSide); i > 0; i--)
    ingress.push(randomRule(rng, partitions, 'from'));
  for (let i = rng.int(0, rulesPerSide); i > 0; i--) egress.push(randomRule(rng, partitions, 'to'));
  return {
    name,
    priority: rng.pick(PRIORITIES),
    appliesTo: randomSelector(rng),
    ingress,
    egress,
    routes: [],
    mode: rng.chance(0.15) ? 'audit' : 'enforce',
  };
}

function randomRule(rng: Rng, partitions: readonly string[], peerKey: 'from' | 'to'): Rule {
  const roll = rng.int(0, 9);
  const action = roll < 4 ? 'allow' : roll < 8 ? 'deny' : 'log';
  const rule: Rule = { action };
  const peer = randomPeer(rng, partitions);
  if (peer) rule[peerKey] = peer;
  if (rng.chance(0.7)) rule.ports = rng.sample(PORT_SPECS, rng.int(1, 3));
  // A rule's own priority (design.md §2.1) from the same few values, so it ties with
  // and crosses policy priorities.
  if (rng.chance(0.3)) rule.priority = rng.pick(PRIORITIES);
  return rule;
}

function randomPeer(rng: Rng, partitions: readonly string[]): Peer | undefined {
  const roll = rng.int(0, 9);
  if (roll < 2) return undefined;
  if (roll < 6) return { selector: randomSelector(rng) };
  if (roll < 7 && partitions.length > 0) return { partition: rng.pick(partitions) };
  const cidr = rng.pick(CIDR_PEERS);
  if (rng.chance(0.5)) return { cidr: cidr.cidr };
  return { cidr: cidr.cidr, except: rng.sample(cidr.excepts, rng.int(1, 2)) };
}

function randomSettings(rng: Rng): Settings {
  return {
    name: 'default',
    defaults: {
      unpartitioned: rng.chance(0.75) ? 'allow' : 'deny',
      crossPartition: rng.chance(0.75) ? 'deny' : 'allow',
    },
  };
}

function randomEndpoints(rng: Rng, model: OracleModel): { src: string; dst: string } {
  const records = model.interfaces;
  // Sometimes any host address of a subnet: held by a record, or freed by a change.
  const outside = (): string =>
    rng.chance(0.8)
      ? rng.pick(OUTSIDE_ADDRESSES)
      : hostAddress(rng.pick(RANDOM_SUBNETS), rng.int(1, 40));
  if (records.length === 0) return { src: outside(), dst: outside() };
  const byName = (): string => rng.pick(records).name;
  // Addresses are sometimes spelled non-canonically (upper-case IPv6): same address.
  const spell = (ip: string): string =>
    ip.includes(':') && rng.chance(0.2) ? ip.toUpperCase() : ip;
  const byAddress = (): string => spell(rng.pick(rng.pick(records).ips));
  const any = (): string => (rng.chance(0.6) ? byName() : byAddress());
  const roll = rng.int(0, 99);
  if (roll < 30) return { src: byName(), dst: byName() };
  if (roll < 45) return { src: byAddress(), dst: byAddress() };
  if (roll < 60) return { src: any(), dst: outside() };
  if (roll < 75) return { src: outside(), dst: any() };
  if (roll < 83) {
    const record = rng.pick(records);
    return { src: record.name, dst: rng.chance(0.5) ? record.name : rng.pick(record.ips) };
  }
  if (roll < 85) return { src: outside(), dst: outside() };
  return { src: any(), dst: any() };
}

function randomTraffic(rng: Rng): { protocol?: CheckRequest['protocol']; port?: number } {
  const roll = rng.int(0, 9);
  if (roll < 2)
    return { protocol: 'icmp', ...(rng.chance(0.3) ? { port: rng.pick(FLOW_PORTS) } : {}) };
  const port = rng.chance(0.8) ? rng.pick(FLOW_PORTS) : rng.int(1, 65535);
  if (roll < 4) return { protocol: 'udp', port };
  if (roll < 5) return { protocol: 'sctp', port };
  // tcp, sometimes implied by leaving the protocol out.
  return rng.chance(0.2) ? { port } : { protocol: 'tcp', port };
}

function partitionNames(model: OracleModel): string[] {
  return model.partitions.map((p) => p.name);
}

function freshName(prefix: string, taken: readonly string[]): string {
  for (let i = taken.length; ; i++) {
    const name = `${prefix}${i}`;
    if (!taken.includes(name)) return name;
  }
}
