/**
 * The Store written once over a SqlClient. Backends supply the client, a durability
 * step after COMMIT and, for PostgreSQL, a follower that hears other managers' commits;
 * everything else (schema, queries, commit protocol) lives here.
 *
 * Commit protocol, in one transaction: bump the revision row only if it still equals
 * baseRevision (else VNP_ERR_CONFLICT), read before-images and upsert puts (one
 * statement with the bump), delete deletes (a missing row is VNP_ERR_NOT_FOUND and rolls
 * everything back), append the change-log row, optionally pg_notify; COMMIT; then make
 * it durable; then report to listeners (the rows: write-rows.ts). `commitEvent` runs the same protocol with the
 * event and expiry rows in the same transaction (one durable step per event); a group
 * commit may claim the group's identity allocations in its transaction too.
 */
import { VnpError, fieldError } from '../../model/errors.js';
import type { FlowRecord } from '../../model/flow.js';
import type {
  AuditQuery,
  FlowQuery,
  FlowAggregates,
  FlowRetention,
  ReactionExpiry,
  StoredEvent,
  ChangeRecord,
  CommitRequest,
  EventCommit,
  EventCommitted,
  IdentityClaim,
  GroupIdentityClaim,
  IdentityClaimResult,
  IdentityTable,
  Store,
  StoredDocument,
  TokenRecord,
  TokenUse,
} from '../types.js';
import type { ChainedRecord } from '../audit-chain.js';
import { CommitListeners, type CommitListener } from './commit-listeners.js';
import { prepareCommit } from './commit-request.js';
import { migrate } from './migrations.js';
import * as F from './flow-store.js';
import * as I from './identity-queries.js';
import * as R from './reaction-store.js';
import * as Q from './queries.js';
import {
  parseResourceRows,
  toChangeRecord,
  toRevision,
  toStored,
  toTokenRecord,
  type ChangeRow,
  type TokenRow,
} from './rows.js';
import type { SqlClient } from './sql-client.js';
import type { SqlStoreBackend } from './sql-store-backend.js';
import { guardClient } from './store-errors.js';
import { logChanges, writeGroupRows, writeRows, type ChainTip } from './write-rows.js';

/** The channel commits are announced on (PostgreSQL LISTEN/NOTIFY). */
export const CHANGES_CHANNEL = 'vnp_changes';

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

export type { SqlStoreBackend } from './sql-store-backend.js';

/** Result of an aggregated resource query: one row, `j` a JSON array. */
type AggRow = { j: unknown };

/**
 * A Store over any SqlClient.
 *
 * @example
 *   const store = new SqlStore({ name: 'pglite', shared: false, client, notify: false, close: () => db.close() });
 *   await store.migrate();
 */
export class SqlStore implements Store {
  readonly backend: string;
  readonly shared: boolean;
  private readonly client: SqlClient;
  private readonly listeners = new CommitListeners();
  private following: Promise<() => Promise<void>> | undefined;
  private closed = false;
  private migrated: Promise<void> | undefined;

  /** The channel commits notify, when the backend has notifications. */
  private readonly channel: string | undefined;
  /** The last change-log entry this store committed (the next one links to it). */
  private tip: ChainTip | undefined;

  constructor(private readonly impl: SqlStoreBackend) {
    this.channel = impl.notify ? CHANGES_CHANNEL : undefined;
    this.backend = impl.name;
    this.shared = impl.shared;
    this.client = guardClient(impl.client);
  }

  /** Once a call succeeded the schema is in place: later calls run none (a failed one is retried). */
  migrate(): Promise<void> {
    this.migrated ??= migrate(this.client).then(() => undefined);
    return this.migrated.catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
  }

  async revision(): Promise<number> {
    const r = await this.client.query<{ rev: unknown }>(Q.CURRENT_REVISION);
    return toRevision(r.rows[0]?.rev);
  }

  async loadAll(): Promise<{ revision: number; documents: StoredDocument[] }> {
    const r = await this.client.query<AggRow & { rev: unknown }>(Q.LOAD_ALL);
    const first = r.rows[0];
    if (!first) throw new VnpError('VNP_ERR_UNAVAILABLE', 'store: not migrated (no revision row)');
    return { revision: toRevision(first.rev), documents: parseResourceRows(first.j).map(toStored) };
  }

  async commit(req: CommitRequest): Promise<ChangeRecord> {
    const prepared = prepareCommit(req);
    const {
      records: [record],
      tip,
    } = await this.chained(async (tx, known) =>
      logChanges(tx, [prepared], [await writeRows(tx, prepared)], this.channel, known),
    );
    this.tip = tip;
    if (!record) throw new Error('store: a commit logged no change');
    await this.makeDurable(record.revision);
    return record;
  }

  async commitGroup(reqs: CommitRequest[], ids?: GroupIdentityClaim): Promise<ChangeRecord[]> {
    if (reqs.length === 0) return [];
    const prepared = reqs.map(prepareCommit);
    const [records, claimed, tip] = await this.chained(async (tx, known) => {
      const written = await writeGroupRows(tx, prepared);
      const out = await logChanges(tx, prepared, written, this.channel, known);
      // The group's allocations, claimed at its last revision: no second transaction.
      const revision = out.records[out.records.length - 1]!.revision;
      const claim = ids && (await I.claimIdentitiesIn(tx, { ...ids.claim, revision }));
      return [out.records, claim, out.tip] as const;
    });
    this.tip = tip;
    // One durable step for the whole group; listeners hear every revision, in order.
    await this.makeDurable(records.map((r) => r.revision));
    if (claimed) ids?.done(claimed, records[records.length - 1]!.revision);
    return records;
  }

  async commitEvent(c: EventCommit): Promise<EventCommitted> {
    // The change takes the event's time; its action is filled in once the id is known.
    const prepared = c.change
      ? prepareCommit({ ...c.change, action: '', at: c.event.at })
      : undefined;
    let tip: ChainTip | undefined;
    const out = await this.chained(async (tx, known): Promise<EventCommitted> => {
      // Rows first: a conflict fails before anything else is written.
      const written = prepared ? await writeRows(tx, prepared) : undefined;
      const stored = await R.recordEvent(tx, c.event, c.expiries);
      if (!prepared || !written || !c.change) return stored;
      const action = c.change.action(stored.event.id);
      const logged = await logChanges(
        tx,
        [{ ...prepared, action }],
        [written],
        this.channel,
        known,
      );
      tip = logged.tip;
      const [record] = logged.records;
      return { ...stored, ...(record ? { record } : {}) };
    });
    this.tip = tip;
    await this.makeDurable(out.record?.revision);
    return out;
  }

  /**
   * A transaction that writes change-log entries: the tip is forgotten unless the
   * caller sets the new one after it committed (a failed or doubtful commit forgets it).
   */
  private chained<T>(fn: (tx: SqlClient, tip: ChainTip | undefined) => Promise<T>): Promise<T> {
    const tip = this.tip;
    this.tip = undefined;
    return this.client.transaction((tx) => fn(tx, tip));
  }

  /** After COMMIT: the backend's durability step, then tell listeners of the revision(s). */
  private async makeDurable(revision: number | number[] | undefined): Promise<void> {
    const revisions = revision === undefined ? [] : Array.isArray(revision) ? revision : [revision];
    const report = () => {
      for (const r of revisions) this.listeners.report(r);
    };
    try {
      if (this.impl.afterCommit) await this.impl.afterCommit();
    } catch (e) {
      // Committed (others may read it), not confirmed durable: say so, still wake listeners.
      report();
      const last = revisions[revisions.length - 1];
      const what = last !== undefined ? `revision ${last}` : 'event';
      throw new VnpError(
        'VNP_ERR_UNAVAILABLE',
        `store: ${what} committed but not flushed: ${String(e)}`,
        last !== undefined ? { revision: last } : {},
      );
    }
    report();
  }

  async changesSince(since: number, limit?: number): Promise<ChangeRecord[]> {
    if (!Number.isSafeInteger(since)) throw fieldError('since', 'an integer revision', since);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw fieldError('limit', 'a non-negative integer', limit);
    }
    const r = await this.client.query<ChangeRow>(Q.CHANGES_SINCE, [since, limit ?? null]);
    return r.rows.map(toChangeRecord);
  }

  async auditChain(after: number, limit: number): Promise<ChainedRecord[]> {
    if (!Number.isSafeInteger(after)) throw fieldError('after', 'an integer revision', after);
    const r = await this.client.query<
      ChangeRow & { prev_hash: string | null; hash: string | null }
    >(Q.AUDIT_CHAIN, [after, limit]);
    return r.rows.map((row) => ({
      ...toChangeRecord(row),
      ...(row.prev_hash !== null ? { prevHash: row.prev_hash } : {}),
      ...(row.hash !== null ? { hash: row.hash } : {}),
    }));
  }

  async oldestRevision(): Promise<number> {
    const r = await this.client.query<{ oldest: unknown }>(Q.OLDEST_REVISION);
    return toRevision(r.rows[0]?.oldest);
  }

  async audit(q: AuditQuery): Promise<ChangeRecord[]> {
    const limit = auditLimit(q.limit);
    const since = q.sinceRevision ?? null;
    if (since !== null && !Number.isSafeInteger(since)) {
      throw fieldError('sinceRevision', 'an integer revision', since);
    }
    const filter =
      q.kind === undefined && q.name === undefined
        ? null
        : JSON.stringify([
            { ...(q.kind ? { kind: q.kind } : {}), ...(q.name ? { name: q.name } : {}) },
          ]);
    const r = await this.client.query<ChangeRow>(Q.AUDIT, [since, filter, limit]);
    return r.rows.map(toChangeRecord);
  }

  async putToken(token: TokenRecord): Promise<void> {
    checkTime('createdAt', token.createdAt);
    if (token.revokedAt !== undefined) checkTime('revokedAt', token.revokedAt);
    if (token.expiresAt !== undefined) checkTime('expiresAt', token.expiresAt);
    if (token.lastUsedAt !== undefined) checkTime('lastUsedAt', token.lastUsedAt);
    await this.client.query(Q.PUT_TOKEN, [
      token.id,
      token.role,
      token.host ?? null,
      token.hash,
      token.createdAt,
      token.createdBy,
      token.revokedAt ?? null,
      token.expiresAt ?? null,
      token.lastUsedAt ?? null,
    ]);
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const r = await this.client.query<TokenRow>(Q.GET_TOKEN, [id]);
    const row = r.rows[0];
    return row ? toTokenRecord(row) : undefined;
  }

  async listTokens(): Promise<TokenRecord[]> {
    const r = await this.client.query<TokenRow>(Q.LIST_TOKENS);
    return r.rows.map(toTokenRecord);
  }

  async liveTokenIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const r = await this.client.query<{ id: string }>(Q.LIVE_TOKEN_IDS, [ids]);
    return new Set(r.rows.map((row) => row.id));
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    checkTime('at', at);
    return this.client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [Q.TOKEN_LOCK_KEY]);
      if ((await tx.query(Q.REVOKE_TOKEN, [id, at])).rows.length > 0) return true;
      const row = (await tx.query<TokenRow>(Q.GET_TOKEN, [id])).rows[0];
      if (!row || row.revoked_at !== null) return false;
      throw new VnpError(
        'VNP_ERR_LAST_ADMIN',
        `token ${id} is the last live admin token: create another admin token first`,
        { field: 'id', id },
      );
    });
  }

  async expireToken(id: string, at: string): Promise<boolean> {
    checkTime('at', at);
    return (await this.client.query(Q.EXPIRE_TOKEN, [id, at])).rows.length > 0;
  }

  async touchTokens(uses: readonly TokenUse[]): Promise<void> {
    if (uses.length === 0) return;
    uses.forEach((u, i) => checkTime(`uses[${i}].at`, u.at));
    await this.client.query(Q.TOUCH_TOKENS, [JSON.stringify(uses)]);
  }

  // Flows (flow-store.ts): telemetry beside the resources, over the same guarded client.
  insertFlows = (records: readonly FlowRecord[], o?: { aggregate?: boolean }) =>
    F.insertFlows(this.client, records, o?.aggregate ?? true);
  addFlowAggregates = (a: FlowAggregates) => F.addFlowAggregates(this.client, a);
  listFlows = (q: FlowQuery) => F.listFlows(this.client, q);
  flowSummary = (since: string, until?: string) => F.flowSummary(this.client, since, until);
  flowTuples = (since: string, until?: string) => F.flowTuples(this.client, since, until);
  pruneFlows = (r: FlowRetention) => F.pruneFlows(this.client, r);

  insertEvent(e: Omit<StoredEvent, 'id'>): Promise<StoredEvent> {
    return R.insertEvent(this.client, e);
  }

  listEvents(limit: number): Promise<StoredEvent[]> {
    return R.listEvents(this.client, limit);
  }

  putExpiry(x: ReactionExpiry): Promise<void> {
    return R.putExpiry(this.client, x);
  }

  listExpiries(): Promise<ReactionExpiry[]> {
    return R.listExpiries(this.client);
  }

  deleteExpiry(record: string, reaction: string): Promise<boolean> {
    return R.deleteExpiry(this.client, record, reaction);
  }

  putUnderlay(host: string, underlay: string, at: string): Promise<void> {
    return I.putUnderlay(this.client, host, underlay, at);
  }

  listUnderlays(): Promise<{ host: string; underlay: string }[]> {
    return I.listUnderlays(this.client);
  }

  loadIdentities(): Promise<IdentityTable> {
    return I.loadIdentities(this.client);
  }

  claimIdentities(claim: IdentityClaim): Promise<IdentityClaimResult> {
    return I.claimIdentities(this.client, claim);
  }

  async onCommit(listener: CommitListener): Promise<() => void> {
    const off = this.listeners.add(listener);
    if (this.impl.follow && !this.following) {
      const started = this.impl.follow((rev) => this.listeners.report(rev));
      this.following = started;
      // A follower that failed to start is retried by the next subscriber.
      started.catch(() => {
        if (this.following === started) this.following = undefined;
      });
    }
    try {
      // Resolve only once the follower listens, so no commit after this is missed.
      if (this.following) await this.following;
    } catch (e) {
      off();
      throw e;
    }
    return off;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.following) {
      const stop = await this.following.catch(() => undefined);
      if (stop) await stop();
    }
    await this.impl.close();
  }
}

/** Times go to timestamptz columns: refuse what PostgreSQL would reject with a raw error. */
function checkTime(field: string, v: string): void {
  if (typeof v !== 'string' || Number.isNaN(new Date(v).getTime())) {
    throw fieldError(field, 'an ISO-8601 time', v);
  }
}

/** Audit page size: default 100, clamped to 1..1000. */
function auditLimit(limit: number | undefined): number {
  if (limit === undefined) return AUDIT_DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw fieldError('limit', 'a positive integer', limit);
  }
  return Math.min(limit, AUDIT_MAX_LIMIT);
}
