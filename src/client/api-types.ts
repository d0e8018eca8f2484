/**
 * Wire types of the REST API (design.md §5) as the client sees them. They mirror
 * the server's responses structurally; the client layer imports only src/model,
 * so shapes the engine defines (diff entries) are restated here — the wire form is
 * the contract, not the engine's module. Check results come from src/model/check.ts.
 */
import type { Document, Kind, Meta, Protocol, Tags, TestDocument } from '../model/types.js';
import type { ChainState } from '../model/audit.js';
import type { RuleWarning } from '../model/check.js';
import type { FlowSummaryRow, StoredFlow } from '../model/flow.js';

export type { FlowRecord, FlowSide, FlowSummaryRow, StoredFlow } from '../model/flow.js';

/** A stored resource as returned by the API: the document fields plus metadata (and `kind`). */
export type ApiResource = Document & Partial<Meta>;

/** One page of a list route. `next` is the cursor of the following page, if any. */
export interface ListPage<T> {
  items: T[];
  next?: string;
  /** Items on all pages (resource lists). */
  total?: number;
}

/** One entry of an apply's diff. */
export interface DiffEntry {
  op: 'create' | 'replace' | 'delete' | 'unchanged';
  kind: Kind;
  name: string;
  before?: ApiResource;
  after?: ApiResource;
}

/** The outcome of one `kind: Test` document. Fields beyond `name` are read defensively. */
export interface TestOutcome {
  name: string;
  /** True when the verdict matched `expect`. */
  passed?: boolean;
  ok?: boolean;
  expect?: 'allow' | 'deny';
  /** The verdict the state produced (the manager says `got`). */
  got?: 'allow' | 'deny';
  verdict?: 'allow' | 'deny';
  actual?: 'allow' | 'deny';
  reason?: string;
  message?: string;
  src?: string;
  dst?: string;
  proto?: Protocol;
  protocol?: Protocol;
  port?: number;
}

/** `POST /v1/apply` request. */
export interface ApplyRequest {
  documents: (Document | TestDocument)[];
  dryRun?: boolean;
  /** Refuse the apply on any rule warning (VNP_ERR_RULE_WARNINGS); also report unused rules. */
  strict?: boolean;
}

/** `POST /v1/apply` response. `revision` is absent on a dry run. */
export interface ApplyResult {
  revision?: number;
  dryRun?: boolean;
  diff: DiffEntry[];
  tests: TestOutcome[];
  /** Rules of the written policies that can never decide (design.md §2.1). */
  ruleWarnings?: RuleWarning[];
}

/** `POST /v1/import/k8s` request: Kubernetes objects (and vnp `kind: Test` documents). */
export interface ImportK8sRequest {
  objects: unknown[];
  subnet?: string;
  source?: string;
  dryRun?: boolean;
}

/** `POST /v1/import/k8s` response: the apply result, the vnp documents and warnings. */
export interface ImportK8sResult extends ApplyResult {
  documents: Document[];
  warnings: string[];
}

export type {
  CheckRequest,
  CheckResult,
  EndpointInfo,
  ResolvedPolicy,
  ResolvedRule,
  RuleRef,
  RuleWarning,
  SideResult,
} from '../model/check.js';

/** `PATCH /v1/interfaces/{name}/tags` request. */
export interface TagPatch {
  set?: Tags;
  remove?: string[];
}

export type TokenRole = 'admin' | 'operator' | 'viewer' | 'agent';
export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'operator', 'viewer', 'agent'];

/** `POST /v1/tokens` response: the secret is shown once. */
export interface CreatedToken {
  id: string;
  token: string;
  role?: TokenRole;
  host?: string;
  expiresAt?: string;
}

/** `POST /v1/tokens/{id}/rotate` response: the new token, and when the old one expires. */
export interface RotatedToken extends CreatedToken {
  replaces: string;
  oldExpiresAt: string;
}

/** A token as listed (never the secret). */
export interface TokenInfo {
  id: string;
  role: TokenRole;
  host?: string;
  createdAt?: string;
  createdBy?: string;
  revokedAt?: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

/** One change inside an audit entry. */
export interface AuditChange {
  op: 'put' | 'delete';
  kind: Kind;
  name: string;
}

/** One audit entry: a committed batch seen by actor and time. */
export interface AuditEntry {
  revision: number;
  at: string;
  actor: string;
  action: string;
  changes: AuditChange[];
}

/** A policy enforcement point as the manager sees it. */
export interface PepInfo {
  host: string;
  connected: boolean;
  /** The last revision the PEP acknowledged as enforced. */
  appliedRevision: number;
  /** Manager revision minus appliedRevision. */
  lag: number;
  /** ISO time of the last message from the PEP. */
  lastContact: string;
  /** What kind of PEP it is, as it reported; absent for older agents. */
  kind?: 'nftables' | 'ovs';
}

/** `GET /healthz` / `GET /readyz` bodies, read defensively. */
export interface HealthInfo {
  ok: boolean;
  status: number;
  body: unknown;
}

/** One line of `GET /v1/watch`: a committed change record or a keep-alive. */
export type WatchEvent = Record<string, unknown> & { revision?: number };

/**
 * Answers of the model-history and impact routes (`/v1/impact`, `/v1/who-can-reach`,
 * `/v1/history`, `/v1/diff`, `/v1/rollback`). Their rows are described at
 * /openapi.json; the client passes them through as JSON objects.
 */
export type JsonObject = Record<string, unknown>;

/** `POST /v1/impact` response: the flows a batch would flip. */
export interface ImpactResult extends JsonObject {
  rows: JsonObject[];
  /** Rows after this page. */
  truncated: number;
  /** Rows in all pages. */
  total: number;
}

/** `GET /v1/identities` item: an identity, its tags, partitions, records and their hosts. */
export interface IdentityInfo {
  id: number;
  tags: Tags;
  partitions: string[];
  records: string[];
  hosts: string[];
}

/** `GET /v1/version`. */
export interface ServerVersion {
  version: string;
  api: string;
  node: string;
  backend: string;
}

/** `GET /v1/auth/can-i`: the answer and the routes it covers, each with its access level. */
export interface CanIAnswer {
  allowed: boolean;
  role: TokenRole;
  reason: string;
  routes: { method: string; path: string; access: string; allowed: boolean }[];
}

/** Filters of `GET /v1/flows` and `/v1/flows/watch` (docs/flows.md). */
export interface FlowFilters {
  verdict?: 'allow' | 'deny';
  /** A record name, an address or prefix, or a selector. */
  from?: string;
  to?: string;
  policy?: string;
  host?: string;
  /** ISO time or a duration ago (`10m`). */
  since?: string;
  until?: string;
}

/** One page of `GET /v1/flows`. */
export interface FlowPage {
  items: StoredFlow[];
  /** The cursor of the next page, when there is one. */
  next?: string;
  /**
   * Summed over the PEPs: denied packets sampled and not (rate limit), records dropped;
   * and how many agents reported flows to this manager since it started (an older
   * manager leaves it out).
   */
  sampling: { sampled: number; unsampled: number; dropped: number; reporting?: number };
  /** What the manager keeps (`VNP_FLOW_RETENTION`); an older manager leaves it out. */
  retention?: { ageMs: number; maxRows: number };
}

/** `GET /v1/flows/summary`. */
export interface FlowSummary {
  since: string;
  until?: string;
  items: FlowSummaryRow[];
  /** Tags and partitions of the identities in `items`, by identity. */
  identities: Record<string, { tags: Tags; partitions: string[] }>;
  /**
   * Denies by deciding policy and rule (policy '' and rule `default`: the defaults):
   * `packets` the kernels counted exactly (hosts with per-rule deny counters, since
   * the manager started), `sampled` the deny records of the window.
   */
  denied?: { policy: string; rule: string; packets: number; sampled: number }[];
}

/** `againstFlows` of `POST /v1/impact`: observed flows whose verdict a change would flip. */
export interface FlowReplay {
  since: string;
  flows: number;
  distinct: number;
  changed: {
    src: string;
    dst: string;
    protocol: Protocol;
    port: number;
    from: 'allow' | 'deny';
    to: 'allow' | 'deny';
    count: number;
    decidedBy: string;
  }[];
  changedFlows: number;
  audit: {
    src: string;
    dst: string;
    protocol: Protocol;
    port: number;
    verdict: 'allow' | 'deny';
    wouldBe: 'allow' | 'deny';
    rules: string[];
    count: number;
  }[];
  ms: number;
}

/** `GET /v1/audit/verify`: the hash chain checked (docs/adr/0024-audit-chain.md). */
export interface AuditVerification extends ChainState {
  ok: boolean;
  /** With `expectHead`: whether an entry of the verified chain has that hash. */
  expectedHeadFound?: boolean;
}
