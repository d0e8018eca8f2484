/**
 * The answers of every operation, as named schemas (the components of /openapi.json)
 * and the table that gives each operation its success status and schema. A route may
 * declare `schema.response` itself; otherwise src/server/openapi.ts takes its entry from
 * {@link SUCCESS}. Response schemas document and are tested (test/server/openapi.test.ts
 * validates real answers against them); they never filter what is sent: the serializer
 * is JSON.stringify (docs/adr/0025-openapi.md). Objects stay open (`additionalProperties`)
 * so a field added later is not a breaking change.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from '../model/errors.js';
import { KIND_PLURAL, KINDS, type Kind } from '../model/types.js';
import { resourceSchema, Revision } from './schemas.js';

const open = { additionalProperties: true } as const;
const Obj = (props: Record<string, TSchema>, title?: string) =>
  Type.Object(props, { ...open, ...(title ? { title } : {}) });
const Str = () => Type.String();
const Int = () => Type.Integer();
const Time = () => Type.String({ format: 'date-time' });
const Opt = Type.Optional;
const List = (item: TSchema, title: string, extra: Record<string, TSchema> = {}) =>
  Obj({ items: Type.Array(item), ...extra }, title);
const Any = () => Type.Object({}, open);
const KindName = Type.Union(KINDS.map((k) => Type.Literal(k)));
/** The flow summary's denies per deciding rule: exact kernel counts beside the samples. */
const DeniedByRule = Obj({ policy: Str(), rule: Str(), packets: Int(), sampled: Int() });

/** `{error: {code, message, details?}}`: every 4xx and 5xx (codes in docs/errors.md). */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Union(Object.keys(ERROR_CODES).map((c) => Type.Literal(c))),
        message: Str(),
        details: Opt(Type.Object({ field: Opt(Str()) }, open)),
      },
      open,
    ),
  },
  { ...open, title: 'Error' },
);

/** JSON of any shape (a tag value, event details): published as the `JsonValue` component. */
export const JSON_VALUE = {
  title: 'JsonValue',
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: { $ref: '#/components/schemas/JsonValue' } },
    { type: 'object', additionalProperties: { $ref: '#/components/schemas/JsonValue' } },
  ],
};
const JsonRef = () => Type.Unsafe<unknown>({ $ref: '#/components/schemas/JsonValue' });
/** Tags: key → string, integer, boolean, or JSON object or array (design.md §1). */
export const TagsSchema = Type.Record(
  Type.String(),
  Type.Union([
    Type.String(),
    Type.Number(),
    Type.Boolean(),
    Type.Array(JsonRef()),
    Type.Record(Type.String(), JsonRef()),
  ]),
  { title: 'Tags' },
);

const Waited = Obj({ ms: Int(), hosts: Type.Array(Str()) }, 'Waited');
const Resources = Object.fromEntries(
  KINDS.map((k) => [k, resourceSchema(k, TagsSchema)]),
) as Record<Kind, TSchema>;
/** Any stored document, `kind` included (diff entries). */
const DocumentSchema = Type.Union(
  KINDS.map((k) => Type.Intersect([Type.Object({ kind: Type.Literal(k) }), Resources[k]])),
  { title: 'Document' },
);
const Written = (k: Kind) =>
  Type.Intersect([Resources[k], Obj({ unchanged: Opt(Type.Boolean()), waited: Opt(Waited) })]);
const DiffEntry = Obj(
  {
    op: Type.Union(['create', 'replace', 'delete', 'unchanged'].map((o) => Type.Literal(o))),
    kind: KindName,
    name: Str(),
    before: Opt(DocumentSchema),
    after: Opt(DocumentSchema),
  },
  'DiffEntry',
);
const Lit = (...values: string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const RuleRef = Obj(
  {
    policy: Str(),
    priority: Int(),
    rule: Str(),
    action: Lit('allow', 'deny', 'log'),
    mode: Lit('enforce', 'audit'),
  },
  'RuleRef',
);
const RuleWarning = Obj(
  {
    kind: Type.Union([Type.Literal('shadowed'), Type.Literal('unused')]),
    rule: Type.Intersect([RuleRef, Type.Object({ direction: Lit('ingress', 'egress') })]),
    shadowedBy: Opt(Type.Array(RuleRef)),
    message: Str(),
  },
  'RuleWarning',
);
const TestOutcome = Obj(
  { name: Str(), passed: Opt(Type.Boolean()), reason: Opt(Str()) },
  'TestOutcome',
);
const Impact = Obj(
  { rows: Type.Array(Any()), truncated: Int(), total: Opt(Int()), pairs: Opt(Int()) },
  'Impact',
);
const ApplyResult = Obj(
  {
    revision: Opt(Revision()),
    dryRun: Opt(Type.Boolean()),
    diff: Type.Array(DiffEntry),
    tests: Type.Array(TestOutcome),
    ruleWarnings: Opt(Type.Array(RuleWarning)),
    impact: Opt(Impact),
    waited: Opt(Waited),
  },
  'ApplyResult',
);
const ResolvedRule = Type.Intersect([
  RuleRef,
  Obj({
    direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
    peer: Type.Union([Type.Literal('any'), Any()]),
    ports: Type.Union([Type.Literal('all'), Type.Array(Str())]),
    shadowed: Type.Boolean(),
  }),
]);
const ResolvedPolicy = Obj(
  {
    policies: Type.Array(Str()),
    partitions: Type.Array(Str()),
    ingress: Type.Array(ResolvedRule),
    egress: Type.Array(ResolvedRule),
  },
  'ResolvedPolicy',
);
const Side = Obj(
  { verdict: Type.Union([Type.Literal('allow'), Type.Literal('deny')]) },
  'SideResult',
);
const CheckResult = Obj(
  {
    verdict: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
    reason: Opt(Str()),
    src: Any(),
    dst: Any(),
    egress: Side,
    ingress: Side,
    route: Opt(Any()),
  },
  'CheckResult',
);
const AuditEntry = Obj(
  {
    revision: Revision(),
    at: Time(),
    actor: Str(),
    action: Str(),
    changes: Type.Array(Obj({ op: Lit('put', 'delete'), kind: KindName, name: Str() })),
  },
  'AuditEntry',
);
const ChangeRecord = Obj(
  { revision: Revision(), at: Time(), actor: Str(), changes: Type.Array(Any()) },
  'ChangeRecord',
);
const TokenRole = Type.Union(['admin', 'operator', 'viewer', 'agent'].map((r) => Type.Literal(r)));
const CreatedToken = Obj(
  { id: Str(), token: Str(), role: Opt(TokenRole), host: Opt(Str()), expiresAt: Opt(Time()) },
  'CreatedToken',
);
const TokenInfo = Obj(
  {
    id: Str(),
    role: TokenRole,
    host: Opt(Str()),
    createdAt: Opt(Time()),
    createdBy: Opt(Str()),
    revokedAt: Opt(Time()),
    expiresAt: Opt(Time()),
    lastUsedAt: Opt(Time()),
  },
  'TokenInfo',
);
const StoredEvent = Obj(
  {
    id: Int(),
    at: Time(),
    type: Str(),
    target: Str(),
    record: Opt(Str()),
    severity: Opt(Int()),
    details: Opt(JsonRef()),
    actor: Str(),
  },
  'StoredEvent',
);
const PepInfo = Obj(
  {
    host: Str(),
    connected: Type.Boolean(),
    appliedRevision: Revision(),
    lag: Int(),
    lastContact: Time(),
    sentRevision: Opt(Revision()),
    underlay: Opt(Str()),
    /** The kind of PEP, as it reported with `?kind=`. */
    kind: Opt(Type.Union([Type.Literal('nftables'), Type.Literal('ovs')])),
  },
  'PepInfo',
);
const IdentityInfo = Obj(
  {
    id: Int(),
    tags: TagsSchema,
    partitions: Type.Array(Str()),
    records: Type.Array(Str()),
    hosts: Type.Array(Str()),
  },
  'IdentityInfo',
);
const CanIAnswer = Obj(
  {
    allowed: Type.Boolean(),
    role: TokenRole,
    reason: Str(),
    routes: Type.Array(Obj({ method: Str(), path: Str(), access: Str(), allowed: Type.Boolean() })),
  },
  'CanIAnswer',
);

/** An NDJSON stream of these objects, one a line (`application/x-ndjson`). */
export interface Ndjson {
  ndjson: TSchema;
}

/** Success answer of an operation: status and schema (or an NDJSON stream). */
export interface Success {
  status: 200 | 201;
  schema: TSchema | Ndjson;
  description: string;
  /** Also answers 201 with the same schema (PUT: created rather than replaced). */
  orCreated?: true;
}

const ok = (schema: TSchema | Ndjson, description: string): Success => ({
  status: 200,
  schema,
  description,
});
const created = (schema: TSchema, description: string): Success => ({
  status: 201,
  schema,
  description,
});

function resourceOperations(k: Exclude<Kind, 'Settings'>): Record<string, Success> {
  const base = `/v1/${KIND_PLURAL[k]}`;
  return {
    [`GET ${base}`]: ok(
      List(Resources[k], `${k}List`, { next: Opt(Str()), total: Opt(Int()) }),
      `a page of ${k}s`,
    ),
    [`POST ${base}`]: created(Resources[k], `the ${k} created`),
    [`GET ${base}/{name}`]: ok(Resources[k], `the ${k}`),
    [`PUT ${base}/{name}`]: {
      ...ok(Written(k), `the ${k} replaced (201: created)`),
      orCreated: true,
    },
    [`PATCH ${base}/{name}`]: ok(Written(k), `the ${k} changed`),
    [`DELETE ${base}/{name}`]: ok(
      Obj(
        {
          revision: Revision(),
          deleted: Obj({ kind: KindName, name: Str() }),
          waited: Opt(Waited),
        },
        'Deleted',
      ),
      'the revision that deleted it',
    ),
  };
}

/** `METHOD /path` (OpenAPI form) → its success answer. */
export const SUCCESS: Record<string, Success> = {
  ...Object.assign(
    {},
    ...KINDS.filter((k) => k !== 'Settings').map((k) =>
      resourceOperations(k as Exclude<Kind, 'Settings'>),
    ),
  ),
  'POST /v1/interfaces/{name}/attach': ok(Written('Interface'), 'the record, attached'),
  'POST /v1/interfaces/{name}/detach': ok(Written('Interface'), 'the record, detached'),
  'PATCH /v1/interfaces/{name}/tags': ok(Written('Interface'), 'the record with its new tags'),
  'POST /v1/tags': ok(
    Obj(
      {
        revision: Revision(),
        dryRun: Opt(Type.Boolean()),
        matched: Type.Array(Str()),
        changed: Type.Array(Str()),
        impact: Impact,
      },
      'BulkTagsResult',
    ),
    'records matched and changed, and the flows that flip',
  ),
  'GET /v1/settings': ok(Resources.Settings, 'the settings'),
  'PUT /v1/settings': ok(Written('Settings'), 'the settings replaced'),
  'POST /v1/apply': ok(ApplyResult, 'the diff, test outcomes and rule warnings (and the revision)'),
  'POST /v1/import/k8s': ok(
    Type.Intersect(
      [ApplyResult, Obj({ documents: Type.Array(Any()), warnings: Type.Array(Str()) })],
      {
        title: 'ImportK8sResult',
      },
    ),
    'the apply result and the documents imported',
  ),
  'POST /v1/check': ok(CheckResult, 'the verdict, explained per side'),
  'POST /v1/policy-for-tags': ok(ResolvedPolicy, 'the merged rule set, in precedence order'),
  'GET /v1/audit': ok(List(AuditEntry, 'AuditList'), 'audit entries, newest first'),
  'GET /v1/audit/verify': ok(
    Obj(
      {
        ok: Type.Boolean(),
        checked: Int(),
        unchained: Int(),
        first: Opt(Revision()),
        last: Opt(Revision()),
        head: Opt(Str()),
        broken: Opt(Obj({ revision: Revision(), reason: Str() })),
        expectedHeadFound: Opt(Type.Boolean()),
      },
      'AuditVerification',
    ),
    'the chain checked, its head hash, and the first broken entry if any',
  ),
  'GET /v1/watch': ok({ ndjson: ChangeRecord }, 'change records as they commit'),
  'POST /v1/tokens': created(CreatedToken, 'the token (its secret shown once)'),
  'GET /v1/tokens': ok(List(TokenInfo, 'TokenList'), 'tokens, never their secrets'),
  'POST /v1/tokens/{id}/rotate': created(
    Type.Intersect([CreatedToken, Obj({ replaces: Str(), oldExpiresAt: Time() })], {
      title: 'RotatedToken',
    }),
    'the new token; the old one works until oldExpiresAt',
  ),
  'DELETE /v1/tokens/{id}': ok(Obj({ revoked: Str() }, 'Revoked'), 'the id revoked'),
  'POST /v1/events': created(
    Obj(
      { event: StoredEvent, revision: Opt(Revision()), expiries: Type.Array(Any()) },
      'EventOutcome',
    ),
    'the event stored and what its reactions did',
  ),
  'GET /v1/events': ok(List(StoredEvent, 'EventList'), 'recent events, newest first'),
  'GET /v1/expiries': ok(
    List(
      Obj(
        {
          record: Str(),
          reaction: Str(),
          expiresAt: Time(),
          set: TagsSchema,
          removed: Type.Array(Str()),
        },
        'PendingExpiry',
      ),
      'ExpiryList',
    ),
    'pending reaction expiries (the undo of a TTL reaction), soonest first',
  ),
  'POST /v1/events/suricata': ok(
    Obj({ events: Type.Array(Any()), skipped: Int() }, 'SuricataResult'),
    'the alerts taken as events, and how many were skipped',
  ),
  'POST /v1/impact': ok(
    Obj({ revision: Revision(), diff: Type.Array(DiffEntry), impact: Impact }, 'ImpactPreview'),
    'the flows the batch would flip',
  ),
  'GET /v1/who-can-reach': ok(
    Obj({ dst: Str(), sources: Type.Array(Any()) }, 'WhoCanReach'),
    'identities and outside addresses allowed in',
  ),
  'GET /v1/history': ok(
    List(
      Obj({
        revision: Revision(),
        at: Time(),
        actor: Str(),
        action: Str(),
        summary: Str(),
        changes: Int(),
      }),
      'History',
      {
        revision: Revision(),
      },
    ),
    'revisions, newest first',
  ),
  'GET /v1/diff': ok(
    Obj({ from: Revision(), to: Revision(), changes: Type.Array(Any()) }, 'RevisionDiff'),
    'resources that differ between the revisions',
  ),
  'POST /v1/rollback': ok(
    Obj(
      {
        revision: Revision(),
        dryRun: Opt(Type.Boolean()),
        rolledBackTo: Revision(),
        diff: Type.Array(Any()),
        impact: Impact,
      },
      'RollbackResult',
    ),
    'the rollback revision (or its preview)',
  ),
  'GET /v1/peps': ok(List(PepInfo, 'PepList'), 'enforcement points and their lag'),
  'GET /v1/hosts/{host}/state': ok(
    Obj({ host: Str(), revision: Revision() }, 'HostState'),
    "the host's desired state",
  ),
  'POST /v1/hosts/{host}/ack': ok(Obj({ ok: Type.Boolean() }, 'Acknowledged'), 'acknowledged'),
  'GET /v1/hosts/{host}/watch': ok(
    { ndjson: Obj({ revision: Revision() }, 'HostMessage') },
    'host states and deltas',
  ),
  'GET /v1/flows': ok(
    List(Any(), 'FlowList', {
      next: Opt(Str()),
      sampling: Obj({ sampled: Int(), unsampled: Int(), dropped: Int(), reporting: Int() }),
      retention: Obj({ ageMs: Int(), maxRows: Int() }),
    }),
    'flow records, newest first, and what the records miss',
  ),
  'GET /v1/flows/summary': ok(
    Obj(
      {
        since: Str(),
        until: Opt(Str()),
        items: Type.Array(Any()),
        identities: Any(),
        denied: Type.Array(DeniedByRule),
      },
      'FlowSummary',
    ),
    'the observed connectivity graph of the window',
  ),
  'GET /v1/flows/watch': ok({ ndjson: Obj({}, 'FlowRecord') }, 'new flow records as they arrive'),
  'POST /v1/hosts/{host}/flows': ok(
    Obj({ queued: Int(), refused: Int() }, 'FlowsQueued'),
    'how many records were queued and refused',
  ),
  'GET /v1/identities': ok(List(IdentityInfo, 'IdentityList'), 'live identities'),
  'GET /v1/version': ok(
    Obj({ version: Str(), api: Str(), node: Str(), backend: Str() }, 'ServerVersion'),
    "the manager's version",
  ),
  'GET /v1/auth/can-i': ok(CanIAnswer, 'the answer and the routes it covers'),
  'GET /v1/whoami': ok(
    Obj({ id: Str(), role: Str(), host: Opt(Str()) }, 'WhoAmI'),
    "the calling token's id, role and host",
  ),
  'GET /v1/graph': ok(
    Obj(
      {
        aggregated: Type.Boolean(),
        identities: Int(),
        nodes: Type.Array(
          Obj({
            id: Str(),
            partitions: Type.Array(Str()),
            tags: TagsSchema,
            identities: Type.Array(Int()),
            records: Int(),
            examples: Type.Array(Str()),
          }),
        ),
        edges: Type.Array(
          Obj({
            src: Str(),
            dst: Str(),
            allowed: Type.Array(Obj({ proto: Str(), ports: Type.Tuple([Int(), Int()]) })),
            sampled: Opt(Type.Boolean()),
          }),
        ),
        selected: Opt(Type.Array(Str())),
      },
      'Graph',
    ),
    'identities (or partition groups) and what policy allows between them',
  ),
};
