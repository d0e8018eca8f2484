/** A small model used across the server tests (documents as in `vnp apply`). */
export const SUBNET = { kind: 'Subnet', name: 'lan', cidr: '10.0.0.0/24' } as const;
export const INSTANCE = { kind: 'Instance', name: 'vm1', host: 'host-a' } as const;
export const INSTANCE2 = { kind: 'Instance', name: 'vm2', host: 'host-b' } as const;
export const WEB = {
  kind: 'Interface',
  name: 'web1',
  subnet: 'lan',
  ips: ['10.0.0.10'],
  tags: { app: 'web', env: 'prod' },
} as const;
export const DB = {
  kind: 'Interface',
  name: 'db1',
  subnet: 'lan',
  ips: ['10.0.0.20'],
  tags: { app: 'db', env: 'prod' },
} as const;
export const PARTITION = {
  kind: 'Partition',
  name: 'prod',
  selector: 'env == "prod"',
  intra: 'allow',
} as const;
export const POLICY = {
  kind: 'Policy',
  name: 'db-in',
  priority: 100,
  appliesTo: 'app == "db"',
  ingress: [{ action: 'allow', from: { selector: 'app == "web"' }, ports: ['tcp/5432'] }],
  egress: [],
  routes: [],
  mode: 'enforce',
} as const;
/** Lower priority: everything else into db is denied (deny beats allow at equal priority). */
export const POLICY_DENY = {
  kind: 'Policy',
  name: 'db-deny',
  priority: 10,
  appliesTo: 'app == "db"',
  ingress: [{ action: 'deny' }],
} as const;
export const REACTION = {
  kind: 'Reaction',
  name: 'quarantine',
  on: 'ids.alert',
  addTags: { quarantine: true },
  ttl: 60,
} as const;

/** Everything, in an order apply accepts as one batch. */
export const MODEL = [
  SUBNET,
  INSTANCE,
  INSTANCE2,
  WEB,
  DB,
  PARTITION,
  POLICY,
  POLICY_DENY,
  REACTION,
];

/** Tests that hold on MODEL. */
export const PASSING_TESTS = [
  {
    kind: 'Test',
    name: 'web-to-db-pg',
    src: 'web1',
    dst: 'db1',
    proto: 'tcp',
    port: 5432,
    expect: 'allow',
  },
  {
    kind: 'Test',
    name: 'web-to-db-ssh',
    src: 'web1',
    dst: 'db1',
    proto: 'tcp',
    port: 22,
    expect: 'deny',
  },
];

/** The REST collection of each kind, and a minimal valid body. */
export const COLLECTIONS: { kind: string; plural: string; doc: Record<string, unknown> }[] = [
  { kind: 'Subnet', plural: 'subnets', doc: SUBNET },
  { kind: 'Instance', plural: 'instances', doc: INSTANCE },
  { kind: 'Interface', plural: 'interfaces', doc: WEB },
  { kind: 'Partition', plural: 'partitions', doc: PARTITION },
  { kind: 'Policy', plural: 'policies', doc: POLICY },
  { kind: 'Reaction', plural: 'reactions', doc: REACTION },
];

/** Strip `kind` for REST bodies (the route names the kind). */
export function body(doc: Record<string, unknown>): Record<string, unknown> {
  const { kind: _kind, ...rest } = doc;
  return rest;
}
