/**
 * JSON schemas (TypeBox) of every request body and query: Fastify validates with
 * them and @fastify/swagger publishes them at /openapi.json. They check shapes
 * only; the deep rules (name pattern, CIDR, tags, selectors, ports) are
 * src/model/validate.ts's, and cross-resource rules the engine's.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Kind } from '../model/types.js';
import { MAX_TTL_SECONDS } from '../model/validate-primitives.js';

/**
 * The largest revision (and any other counter) a request may name: 2^53 - 1. Beyond it
 * a JSON number is no longer an exact integer (`n + 1 === n`), so a loop counting up
 * to it could never finish. Every integer in every schema has a maximum.
 */
export const MAX_REVISION = Number.MAX_SAFE_INTEGER;
/** A revision in a body (server-set metadata, rollback targets, acknowledgements). */
export const Revision = (): TSchema => Type.Integer({ minimum: 0, maximum: MAX_REVISION });

const Name = Type.String({
  minLength: 1,
  maxLength: 63,
  description: 'Resource name: [a-z0-9]([a-z0-9._-]{0,62})',
});
const Selector = Type.String({ description: 'A selector expression (design.md §1)' });
const Tags = Type.Object(
  {},
  { additionalProperties: true, description: 'key → string | integer | boolean | JSON' },
);

/** Server-set metadata: accepted (and ignored) so a GET body can be PUT back. */
const meta = {
  revision: Type.Optional(Revision()),
  createdAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
};

const Peer = Type.Object(
  {
    selector: Type.Optional(Selector),
    partition: Type.Optional(Type.String()),
    cidr: Type.Optional(Type.String()),
    except: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

const Ports = Type.Array(Type.String({ description: 'tcp/443, udp/53, tcp/8000-8099, icmp, udp' }));

const Rule = Type.Object(
  {
    action: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('log')]),
    from: Type.Optional(Peer),
    to: Type.Optional(Peer),
    ports: Type.Optional(Ports),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const SteeringRoute = Type.Object(
  { to: Type.Optional(Peer), ports: Type.Optional(Ports), via: Type.String() },
  { additionalProperties: false },
);

const IntraDefault = Type.Union([Type.Literal('allow'), Type.Literal('deny')]);

/** The fields of each kind (besides `name`, metadata and `kind`). */
const FIELDS: Record<Kind, Record<string, TSchema>> = {
  Subnet: {
    cidr: Type.String(),
    vni: Type.Optional(Type.Integer({ minimum: 1, maximum: 16777215 })),
  },
  Instance: { host: Type.String(), netns: Type.Optional(Type.String()) },
  Interface: {
    subnet: Type.String(),
    ips: Type.Array(Type.String(), { minItems: 1 }),
    mac: Type.Optional(Type.String()),
    securityGroups: Type.Optional(Type.Array(Type.String())),
    tags: Type.Optional(Tags),
    instance: Type.Optional(Type.String()),
  },
  Partition: {
    selector: Selector,
    intra: Type.Optional(IntraDefault),
    description: Type.Optional(Type.String()),
  },
  Policy: {
    priority: Type.Integer({ minimum: 0, maximum: 65535 }),
    appliesTo: Selector,
    ingress: Type.Optional(Type.Array(Rule)),
    egress: Type.Optional(Type.Array(Rule)),
    routes: Type.Optional(Type.Array(SteeringRoute)),
    mode: Type.Optional(Type.Union([Type.Literal('enforce'), Type.Literal('audit')])),
    description: Type.Optional(Type.String()),
  },
  Reaction: {
    on: Type.String({ minLength: 1 }),
    match: Type.Optional(Selector),
    addTags: Type.Optional(Tags),
    removeTags: Type.Optional(Type.Array(Type.String())),
    ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_SECONDS })),
  },
  Settings: {
    defaults: Type.Object(
      { unpartitioned: Type.Optional(IntraDefault), crossPartition: Type.Optional(IntraDefault) },
      { additionalProperties: false },
    ),
  },
};

/**
 * The body schema of a resource of `kind` (PUT/POST). `name` is optional: PUT
 * takes it from the path.
 *
 * @example
 *   resourceBody('Subnet') // { type: 'object', properties: { cidr, vni?, name?, … } }
 */
export function resourceBody(kind: Kind): TSchema {
  return Type.Object(
    {
      kind: Type.Optional(Type.Literal(kind)),
      name: Type.Optional(Name),
      ...FIELDS[kind],
      ...meta,
    },
    { additionalProperties: false, title: `${kind}Body` },
  );
}

/**
 * A stored resource of `kind` as answered: its fields, `kind`, `name` and metadata
 * (the `${kind}` component of /openapi.json).
 *
 * @example resourceSchema('Subnet') // { title: 'Subnet', required: ['name', 'cidr', …], … }
 */
export function resourceSchema(kind: Kind, tags: TSchema = Tags): TSchema {
  return Type.Object(
    {
      kind: Type.Optional(Type.Literal(kind)),
      name: Type.String(),
      ...FIELDS[kind],
      ...storedFields(kind, tags),
      revision: Type.Optional(Revision()),
      createdAt: Type.Optional(Type.String({ format: 'date-time' })),
      updatedAt: Type.Optional(Type.String({ format: 'date-time' })),
    },
    { additionalProperties: true, title: kind },
  );
}

/** Fields a stored resource always has: defaults are filled in on write (src/model/validate.ts). */
function storedFields(kind: Kind, tags: TSchema): Record<string, TSchema> {
  switch (kind) {
    case 'Interface':
      return { tags };
    case 'Partition':
      return { intra: IntraDefault };
    case 'Policy':
      return {
        ingress: Type.Array(Rule),
        egress: Type.Array(Rule),
        routes: Type.Array(SteeringRoute),
        mode: Type.Union([Type.Literal('enforce'), Type.Literal('audit')]),
      };
    case 'Reaction':
      return { addTags: Type.Optional(tags) };
    case 'Settings':
      return {
        name: Type.Literal('default'),
        defaults: Type.Object(
          { unpartitioned: IntraDefault, crossPartition: IntraDefault },
          { additionalProperties: false },
        ),
      };
    default:
      return {};
  }
}

/** A JSON merge patch (RFC 7396) of a resource: any object; checked after merging. */
export const MergePatch = Type.Object(
  {},
  { additionalProperties: true, description: 'RFC 7396 JSON merge patch' },
);

export const NameParams = Type.Object({ name: Type.String() });
export const IdParams = Type.Object({ id: Type.String() });

/** Query integers arrive as strings (type coercion is off so bodies stay strict); 15 digits < 2^53. */
export const QueryInt = Type.String({ pattern: '^[0-9]{1,15}$' });

/**
 * A `?limit=` of 1..max (a power of ten), refused beyond it (400), never clamped: the
 * documented maximum is the schema's.
 *
 * @example LimitQuery(1000) // pattern ^(?:[1-9][0-9]{0,2}|1000)$
 */
export function LimitQuery(max: number): TSchema {
  const digits = Math.log10(max);
  if (!Number.isInteger(digits) || digits < 1) throw new Error(`LimitQuery: ${max} is not 10^n`);
  return Type.String({
    pattern: `^(?:[1-9][0-9]{0,${digits - 1}}|${max})$`,
    description: `1..${max}`,
  });
}

/** The largest page of every list (`?limit=`). */
export const MAX_PAGE = 1000;

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery(MAX_PAGE)),
    after: Type.Optional(
      Type.String({ description: "return names after this one (the previous page's `next`)" }),
    ),
    selector: Type.Optional(
      Type.String({ description: "interfaces only: a selector on the records' tags" }),
    ),
  },
  { additionalProperties: false },
);

export const AttachBody = Type.Object({ instance: Name }, { additionalProperties: false });

export const TagsPatchBody = Type.Object(
  {
    set: Type.Optional(Tags),
    remove: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const ImportK8sBody = Type.Object(
  {
    objects: Type.Array(Type.Unknown(), {
      description:
        'Kubernetes objects as kubectl prints them (Namespace, Pod, networking.k8s.io/v1 NetworkPolicy, List) and vnp kind: Test documents',
    }),
    subnet: Type.Optional(
      Type.String({ description: 'the subnet pods are recorded in (default pods)' }),
    ),
    source: Type.Optional(Type.String({ description: 'the import source (default k8s)' })),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ApplyBody = Type.Object(
  {
    documents: Type.Array(
      Type.Object({ kind: Type.String(), name: Type.String() }, { additionalProperties: true }),
      {
        description: 'documents with kind and name; kind: Test documents are checked, never stored',
      },
    ),
    dryRun: Type.Optional(Type.Boolean()),
    strict: Type.Optional(
      Type.Boolean({
        description:
          'refuse the apply (VNP_ERR_RULE_WARNINGS) when any rule warning is found; also report rules that match no record',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CheckBody = Type.Object(
  {
    src: Type.String({ minLength: 1, description: 'record name or address' }),
    dst: Type.String({ minLength: 1, description: 'record name or address' }),
    protocol: Type.Optional(
      Type.Union([
        Type.Literal('tcp'),
        Type.Literal('udp'),
        Type.Literal('sctp'),
        Type.Literal('icmp'),
      ]),
    ),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  },
  { additionalProperties: false },
);

export const PolicyForTagsBody = Type.Object({ tags: Tags }, { additionalProperties: false });

export const TokenCreateBody = Type.Object(
  {
    role: Type.Union([
      Type.Literal('admin'),
      Type.Literal('operator'),
      Type.Literal('viewer'),
      Type.Literal('agent'),
    ]),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    /** Lifetime: `30d`, `12h`, `90m`, or seconds; absent: never expires. */
    ttl: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const TokenRotateBody = Type.Object(
  {
    /** How long the old secret keeps working (default 1h; `0s`: not at all). */
    grace: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    /** Lifetime of the new token (absent: never expires). */
    ttl: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery(MAX_PAGE)),
    kind: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    since: Type.Optional(QueryInt),
  },
  { additionalProperties: false },
);

export const WatchQuery = Type.Object(
  { since: Type.Optional(QueryInt) },
  { additionalProperties: false },
);

/**
 * Parse a validated query integer, bounded.
 *
 * @example
 *   queryInt('25', 100, 1000) // 25
 */
export function queryInt(
  raw: string | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  return Math.min(Number(raw), max);
}
