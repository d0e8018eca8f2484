/**
 * The store: one small interface, two backends (store/pglite, store/postgres),
 * one schema and one set of queries. A write is acknowledged only once durable.
 * Every committed batch bumps the global revision by one and appends one entry
 * to the change log, in the same transaction as the resource rows and audit row.
 */
import type { ChainedRecord } from './audit-chain.js';
import type { FlowRecord, FlowSummaryRow, FlowVerdict, StoredFlow } from '../model/flow.js';
import type { Kind } from '../model/types.js';

// The change-log and event-log records are data of the model (src/model/change-log.ts,
// src/model/event-log.ts) so layers above the model read them without the store.
export type {
  ChangeEntry,
  ChangeRecord,
  CommitRequest,
  StoredDocument,
} from '../model/change-log.js';
export type {
  EventCommit,
  EventCommitted,
  ReactionExpiry,
  StoredEvent,
} from '../model/event-log.js';
import type { ChangeRecord, CommitRequest, StoredDocument } from '../model/change-log.js';
import type {
  EventCommit,
  EventCommitted,
  ReactionExpiry,
  StoredEvent,
} from '../model/event-log.js';

export interface TokenRecord {
  id: string;
  role: 'admin' | 'operator' | 'viewer' | 'agent';
  host?: string;
  /** scrypt hash: `scrypt$N$r$p$salt$hash` (base64). Never the secret. */
  hash: string;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
  /** The token stops authenticating at this time (a TTL, or a rotated-out secret's grace). */
  expiresAt?: string;
  /** Last time the token authenticated a request, as recorded (at most ~1 min stale). */
  lastUsedAt?: string;
}

/** One token's last use, as a manager batches them (see Store.touchTokens). */
export interface TokenUse {
  id: string;
  at: string;
}

export interface AuditQuery {
  sinceRevision?: number;
  limit?: number;
  kind?: Kind;
  name?: string;
}

/** One identity allocation as persisted (docs/adr/0007-distribution.md). */
export interface IdentityRow {
  id: number;
  /** Canonical identity-relevant tags JSON. */
  key: string;
  /** Set while the identity is in its grace period (ms since the epoch). */
  releasedAt?: number;
}

/** The persisted allocations and the revision they are those of. */
export interface IdentityTable {
  revision: number;
  /** The fingerprint recorded with `revision` (absent before the first claim). */
  fingerprint?: string;
  identities: IdentityRow[];
}

/**
 * One revision's identity allocations, as the rows that changed since the claimer's
 * previous claim (docs/adr/0007-distribution.md). Fingerprints are opaque to the store.
 */
export interface IdentityClaim {
  revision: number;
  /** Fingerprint of the claimer's allocations the changes apply to. */
  base: string;
  /** Fingerprint of the claimer's allocations at `revision`. */
  fingerprint: string;
  /** Rows added or changed since `base`. */
  upsert: IdentityRow[];
  /** Ids released since `base`. */
  remove: number[];
  /**
   * Every allocation at `revision`: written instead of the changes when the table does
   * not hold `base` (after a reload, an upgrade). Without it such a claim is refused.
   */
  all?: IdentityRow[];
}

/** A claim committed with a group (`Store.commitGroup`): its revision is the group's last. */
export interface GroupIdentityClaim {
  claim: Omit<IdentityClaim, 'revision'>;
  /** Told where the table stands once the group is durable, and the revision claimed. */
  done(result: IdentityClaimResult, revision: number): void;
}

/** Where the identity table stands after a claim. */
export interface IdentityClaimResult {
  /** Whether this claim was recorded. */
  claimed: boolean;
  /** The revision and fingerprint the table holds now (null fingerprint: unknown). */
  revision: number;
  fingerprint: string | null;
}

/**
 * Which flows one end (`from`: the source, `to`: the destination) may be: a flow
 * matches when its end is one of the records, lies in one of the prefixes, or has one
 * of the identities. All three empty: no flow matches.
 */
export interface FlowEndFilter {
  records: string[];
  /** Canonical prefixes (`10.0.0.0/24`, `10.0.0.5/32`). */
  cidrs: string[];
  identities: number[];
}

/** A flow query; every given filter must hold. Newest first. */
export interface FlowQuery {
  verdict?: FlowVerdict;
  host?: string;
  /** Deciding policy of either side. */
  policy?: string;
  from?: FlowEndFilter;
  to?: FlowEndFilter;
  /** ISO times: `since` <= time < `until`. */
  since?: string;
  until?: string;
  /** Paging: only flows with id < `before` (the previous page's last id). */
  before?: number;
  limit: number;
}

/** What the flow tables may hold (`VNP_FLOW_RETENTION`). */
export interface FlowRetention {
  /** Flows (and aggregate minutes) at or before this ISO time go. */
  before: string;
  /** At most this many flow rows stay (the newest). */
  maxRows: number;
}

/** One row of the per-minute aggregate (`vnp_flow_minutes`), as a batch adds to it. */
export type FlowMinuteRow = Omit<
  FlowSummaryRow,
  'first' | 'last' | 'srcIdentity' | 'dstIdentity'
> & { minute: string; src_identity: number; dst_identity: number };

/** One row of the per-minute distinct connections (`vnp_flow_tuples`), for replays. */
export interface FlowTupleRow extends FlowTuple {
  minute: string;
}

/** Sums to add to the aggregates (FlowAggregator), each list sorted by key. */
export interface FlowAggregates {
  minutes: FlowMinuteRow[];
  tuples: FlowTupleRow[];
}

/** One distinct flow of a window, for replays (`--against-flows`). */
export interface FlowTuple {
  src: string;
  dst: string;
  protocol: FlowRecord['protocol'];
  port: number;
  verdict: FlowVerdict;
  count: number;
}

/**
 * Flow records (docs/flows.md): telemetry beside the resources, never part of a
 * revision. Inserts are batched and need not be durable one by one.
 */
export interface FlowStore {
  /**
   * Store records (one statement for the rows, one for each aggregate); returns them
   * with their ids, in order. `aggregate: false` leaves the aggregates to the caller
   * (addFlowAggregates), who sums several batches first.
   */
  insertFlows(
    records: readonly FlowRecord[],
    opts?: { aggregate?: boolean },
  ): Promise<StoredFlow[]>;
  /** Add sums to the per-minute aggregate and the replay tuples (one statement each). */
  addFlowAggregates(a: FlowAggregates): Promise<void>;
  listFlows(q: FlowQuery): Promise<StoredFlow[]>;
  /** The per-minute aggregate of minutes starting in [since, until), summed per edge. */
  flowSummary(since: string, until?: string): Promise<FlowSummaryRow[]>;
  /** Distinct connections (new flows, each counted once) in the minutes from `since`'s to `until`'s (whole minutes), with counts. */
  flowTuples(since: string, until?: string): Promise<FlowTuple[]>;
  /** Apply retention; returns the number of flow rows removed. */
  pruneFlows(r: FlowRetention): Promise<number>;
}

/** What {@link Store.loadAll} answers. */
export interface LoadedModel {
  revision: number;
  documents: StoredDocument[];
  validatedBy?: string;
}

export interface Store extends FlowStore {
  /** `pglite` or `postgres`: for display (health, version); decide by capabilities. */
  readonly backend: string;
  /**
   * Other managers may write to this store at the same time (a shared database):
   * commits, revocations and underlays can come from elsewhere and must be followed.
   * False for a store one process owns (embedded PGlite).
   */
  readonly shared: boolean;
  /** Run pending migrations (idempotent; safe with several managers). */
  migrate(): Promise<void>;
  /** Current global revision (0 when empty). */
  revision(): Promise<number>;
  /**
   * Every resource and the revision they are consistent at. `validatedBy`: the stamp a
   * {@link Store.markValidated} call recorded for exactly these documents at this
   * revision, when the store kept one (the embedded store's model cache does).
   */
  loadAll(): Promise<LoadedModel>;
  /**
   * The whole model at `revision` passed the validation named by `stamp` (the manager
   * calls it as it stops). A store that keeps the model between runs may hand the stamp
   * back from loadAll with the same documents; one that does not ignores it
   * (docs/adr/0059-trusted-model-load.md).
   */
  markValidated?(revision: number, stamp: string): void;
  /** Atomically write a batch; returns the committed record (revision, stamped documents). */
  commit(req: CommitRequest): Promise<ChangeRecord>;
  /**
   * Group commit: several batches in ONE transaction and one durable step, in order,
   * each with its own revision, change-log and audit row (request i's `baseRevision`
   * must be the revision request i-1 commits, as if committed one by one). All or
   * nothing: if any fails (conflict, a missing delete, a value the database refuses),
   * none is committed. Returns the records in request order.
   *
   * With `identities`, the group's identity allocations are claimed in the same
   * transaction, at the group's last revision (as `claimIdentities` would, one
   * transaction and durable step fewer); `identities.done` is told where the table
   * stands once the group is durable. A refused claim does not fail the group.
   */
  commitGroup(reqs: CommitRequest[], identities?: GroupIdentityClaim): Promise<ChangeRecord[]>;
  /** Change log entries with revision > since, ascending, at most `limit`. */
  changesSince(since: number, limit?: number): Promise<ChangeRecord[]>;
  /** Oldest revision still in the change log (history before it is compacted). */
  oldestRevision(): Promise<number>;
  /** The audit log: the change log seen by actor/time (newest first). */
  audit(q: AuditQuery): Promise<ChangeRecord[]>;
  /** The change log after `after`, ascending, with its hash chain (src/store/audit-chain.ts). */
  auditChain(after: number, limit: number): Promise<ChainedRecord[]>;
  putToken(token: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  /**
   * Of `ids`, those of tokens that exist and are not revoked: one read however many
   * tokens a manager's open streams hold (the revocation sweep).
   */
  liveTokenIds(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Revoke a token; false when it is unknown or already revoked. Refuses with
   * VNP_ERR_LAST_ADMIN to revoke the last admin token that is live at `at` (not
   * revoked, not expired): checked and written under one lock, so two managers
   * revoking the last two admins at once cannot both succeed.
   */
  revokeToken(id: string, at: string): Promise<boolean>;
  /**
   * Make a token expire at `at` at the latest (an earlier expiry stays); false when it
   * is unknown or revoked. Rotation uses it for the old secret's grace period.
   */
  expireToken(id: string, at: string): Promise<boolean>;
  /**
   * Record last uses in one statement; a later time wins over an earlier one (several
   * managers flush their batches in any order). Unknown ids are ignored.
   */
  touchTokens(uses: readonly TokenUse[]): Promise<void>;
  /** Called with each revision committed by anyone (other managers included); returns unsubscribe. */
  onCommit(listener: (revision: number) => void): Promise<() => void>;
  close(): Promise<void>;
  /** Reactions: store an event (without id); returns it with its id. */
  insertEvent(e: Omit<StoredEvent, 'id'>): Promise<StoredEvent>;
  /**
   * Reactions: store an event, create or extend its expiries and commit the change
   * it causes, in one durable transaction (see EventCommit). A revision conflict
   * (VNP_ERR_CONFLICT) rolls back all of it, the event row included.
   */
  commitEvent(c: EventCommit): Promise<EventCommitted>;
  /** Reactions: the newest events first, at most `limit`. */
  listEvents(limit: number): Promise<StoredEvent[]>;
  /** Reactions: create or replace the expiry of (record, reaction). */
  putExpiry(x: ReactionExpiry): Promise<void>;
  /** Reactions: every pending expiry, soonest first. */
  listExpiries(): Promise<ReactionExpiry[]>;
  /** Reactions: drop the expiry of (record, reaction); false when there was none. */
  deleteExpiry(record: string, reaction: string): Promise<boolean>;
  /** PEPs: record the underlay address a host reported. */
  putUnderlay(host: string, underlay: string, at: string): Promise<void>;
  /** PEPs: every host's last reported underlay address. */
  listUnderlays(): Promise<{ host: string; underlay: string }[]>;
  /** Identities: the persisted allocations (revision 0: none yet). */
  loadIdentities(): Promise<IdentityTable>;
  /**
   * Identities: record a revision's allocations, first writer wins: refused when the
   * table holds that revision or a later one, or does not hold the claim's `base` and
   * the claim has no `all`. Returns where the table stands after. O(changed rows).
   */
  claimIdentities(claim: IdentityClaim): Promise<IdentityClaimResult>;
}
