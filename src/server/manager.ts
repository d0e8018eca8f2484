/**
 * The Manager: owns the engine (the in-memory, compiled model), the store (the
 * durable truth) and the single write lock (docs/adr/0004-server.md).
 *
 * Invariants:
 * - `revision` is the store revision the engine reflects; reads are served from
 *   the engine and never touch the store. While a group commit is in flight the
 *   engine is ahead of `revision` (`settled()` is defined): reads wait for it
 *   (src/server/commit-wait.ts), writes queue for the next group
 *   (docs/adr/0055-writes-queue-behind-the-group-in-flight.md). Between two groups
 *   the event loop turns once, so whatever waited runs on committed state.
 * - Writes run in groups under the lock (docs/adr/0014-group-commit.md): each is
 *   planned, validated and applied in order, then the group is one store
 *   transaction. A write rejected before the commit changes nothing; a write is
 *   acknowledged only once its group is durable; a failed group is reloaded and
 *   its writes run one by one (plan → validate → commit → apply).
 * - Changes by other managers sharing the database are applied from the change
 *   log (`changesSince`), never from a notification payload, in revision order.
 * Parts: group-stage.ts (staging a group), single-write.ts (one write, events),
 * change-log.ts (following the log), identity-sync.ts, manager-listeners.ts.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { Engine, MODEL_VALIDATION } from '../engine/index.js';
import { VnpError } from '../model/errors.js';
import type { ChangeRecord, EventCommitted, GroupIdentityClaim, Store } from '../store/index.js';
import {
  MAX_GROUP,
  batchOf,
  stageGroup,
  stampPuts,
  type QueuedWrite,
  type StagedWrite,
} from './group-stage.js';
import { IdentitySync, type IdentitySyncHost } from './identity-sync.js';
import { ManagerListeners } from './manager-listeners.js';
import {
  EMPTY_DELTA,
  deferred,
  silentLog,
  unflushed,
  type Deferred,
  type EventPlan,
  type ManagerLog,
  type ManagerOptions,
  type Plan,
  type RecordListener,
  type WriteContext,
} from './manager-types.js';
import { applyCommitted, replayChangeLog, type ChangeLogHost } from './change-log.js';
import { Mutex } from './mutex.js';
import { commitAlone, type SingleWriteHost } from './single-write.js';

export type {
  EventPlan,
  ManagerLog,
  ManagerOptions,
  Plan,
  RecordListener,
  WriteContext,
} from './manager-types.js';

/** Owns engine + store + write lock; see the file comment for the invariants. */
export class Manager {
  engine: Engine;
  /** The store revision the engine reflects. */
  revision = 0;
  /** True once the initial load finished. */
  loaded = false;
  /** Seconds the last compile (load or apply) took, for /metrics. */
  lastCompileSeconds = 0;
  readonly store: Store;
  /** The manager's clock (injected in tests). */
  readonly now: () => number;
  private readonly log: ManagerLog;
  private readonly identityGraceMs: number;
  private readonly lock = new Mutex();
  /** Writes waiting for the next group commit, in arrival order. */
  private readonly pending: QueuedWrite[] = [];
  /** A group commit is queued on the lock (it takes every pending write when it runs). */
  private groupQueued = false;
  /** Set while a group's writes are in the model but not yet durable. */
  private inFlight: Deferred | undefined;
  private unsubscribe: (() => void) | undefined;
  private catchUpQueued = false;
  /** The highest revision the store reported committed (own commits included). */
  private reported = 0;
  private closed = false;
  private readonly identities: IdentitySync;
  private readonly listeners: ManagerListeners;
  /** What the one-write path, the change-log follower and the identity sync use of it. */
  private readonly host: SingleWriteHost & ChangeLogHost & IdentitySyncHost;

  /**
   * @example
   *   const manager = new Manager({ store });
   *   await manager.start();
   */
  constructor(opts: ManagerOptions) {
    this.store = opts.store;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLog;
    this.listeners = new ManagerListeners(this.log);
    this.identityGraceMs = opts.identityGraceMs ?? 30_000;
    this.engine = new Engine({ identityGraceMs: this.identityGraceMs });
    this.host = {
      store: this.store,
      log: this.log,
      engine: () => this.engine,
      revision: () => this.revision,
      closed: () => this.closed,
      caughtUp: (err, attempt) => this.caughtUpAfterConflict(err, attempt),
      apply: (record) => applyCommitted(this.host, record),
      reload: () => this.reload(),
      resync: () =>
        this.lock.run(async () => {
          if (this.closed) return;
          await this.reload();
          this.listeners.reloaded();
        }),
      // The commit time, not the local clock: every manager replaying the log derives
      // the same identity grace periods, hence the same identity numbers.
      advance: (record, changes) => {
        const delta =
          changes.length > 0
            ? this.timed(() => this.engine.apply(changes, Date.parse(record.at)))
            : EMPTY_DELTA;
        this.revision = record.revision;
        return delta;
      },
      applied: (record, delta) => {
        this.listeners.tell(record, delta);
        this.identities.sync();
      },
    };
    this.identities = new IdentitySync(this.host);
  }

  /** Migrate, load the whole model, then follow commits of other managers. */
  async start(): Promise<void> {
    await this.store.migrate();
    await this.lock.run(() => this.reload());
    this.loaded = true;
    this.identities.sync();
    this.unsubscribe = await this.store.onCommit((rev) => this.onStoreCommit(rev));
    // Another manager's commit may have landed between loadAll and the subscription. A
    // store nobody else writes to has none (its commits all come through this manager,
    // which has not started writing): no read of the change log at every start.
    if (this.store.shared) this.queueCatchUp(true);
  }

  /** Stop following the store; the caller closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.listeners.clear();
    await this.identities.settled();
    await this.lock.run(() => undefined);
    // The engine holds the model at `revision`, and it was validated (or loaded on the
    // same stamp): the store may keep the stamp with it (docs/adr/0059-trusted-model-load.md).
    if (this.loaded) this.store.markValidated?.(this.revision, MODEL_VALIDATION);
  }

  /**
   * Subscribe to every change record the engine applies (own and others', in
   * revision order). Returns the unsubscribe function.
   *
   * @example
   *   const off = manager.onRecord((r) => stream.write(JSON.stringify(r) + '\n'));
   */
  onRecord(listener: RecordListener): () => void {
    return this.listeners.onRecord(listener);
  }

  /**
   * Told when the model was rebuilt outside the change log (identity resync): anything
   * derived from it must be rebuilt too. Returns the unsubscribe function.
   *
   * @example manager.onReload(() => feed.reset(manager.revision, manager.engine.hostDelta()));
   */
  onReload(listener: () => void): () => void {
    return this.listeners.onReload(listener);
  }

  /** Resolves once the identity allocations of the current revision were recorded or checked. */
  identitiesSettled(): Promise<void> {
    return this.identities.settled();
  }

  /**
   * Run one write: `plan` computes the changes from the current model; they are
   * validated, committed and applied. Writes that arrive while a commit is in flight
   * are committed together (group commit, docs/adr/0014-group-commit.md): each is
   * planned and validated in arrival order against the model including the group's
   * earlier writes, the group is one store transaction and one fsync, and each write
   * keeps its own revision and audit entry and is answered only once the group is
   * durable. A write refused by its plan or validation fails alone. If the group's
   * transaction fails, the model is reloaded and each write runs again alone, so one
   * bad write never fails the others. On a revision conflict (another manager wrote)
   * the manager catches up and plans again, once.
   *
   * @example
   *   const { record } = await manager.write({ actor: 'admin:ab12', action: 'create' },
   *     () => ({ changes: [{ op: 'put', doc }], result: undefined }));
   */
  write<T>(
    ctx: WriteContext,
    plan: (engine: Engine) => Plan<T>,
  ): Promise<{ record?: ChangeRecord; result: T }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ctx, plan, resolve, reject } as unknown as QueuedWrite);
      this.scheduleGroup();
    });
  }

  /**
   * Resolves once the group in flight is settled: while a group commits, the model
   * already holds its writes, so reads wait for it (they never see what is not yet
   * durable). Undefined when nothing is in flight. What runs when it resolves
   * (microtasks) runs before the next group touches the model.
   */
  settled(): Promise<void> | undefined {
    return this.inFlight?.promise;
  }

  /**
   * Resolves when no group is in flight (at once when none is): for code that reads
   * the model outside a request's wait, e.g. after awaiting the store.
   *
   * @example await manager.committed(); const info = manager.engine.identityInfo(id);
   */
  async committed(): Promise<void> {
    for (let w = this.settled(); w; w = this.settled()) await w;
  }

  /** Writes queued for the next group (the group in flight not counted). */
  get queued(): number {
    return this.pending.length;
  }

  /** Queue one group commit of the pending writes behind the lock (at most one queued). */
  private scheduleGroup(): void {
    if (this.groupQueued) return;
    this.groupQueued = true;
    void this.lock
      .run(async () => {
        // One turn of the event loop before the model moves: reads and stream flushes
        // woken by the previous group run on its committed state, and writes whose
        // requests are ready by now join this group.
        await turn();
        this.groupQueued = false;
        const group = this.pending.splice(0, MAX_GROUP);
        if (this.pending.length > 0) this.scheduleGroup();
        if (group.length > 0) await this.commitGroup(group);
      })
      .catch((err: unknown) => this.log.error({ err }, 'group commit failed'));
  }

  /** Stage, commit and publish one group (under the lock); settles every write of it. */
  private async commitGroup(group: QueuedWrite[]): Promise<void> {
    this.inFlight = deferred();
    const base = this.revision;
    let staged: StagedWrite[] = [];
    let records: ChangeRecord[] | undefined;
    let claim: GroupIdentityClaim | undefined;
    let failure: unknown;
    try {
      staged = stageGroup(group, {
        engine: this.engine,
        revision: this.revision,
        now: this.now,
        timed: (fn) => this.timed(fn),
      });
      const commits = staged.filter((w) => w.req !== undefined);
      // The group's identity allocations are claimed in its own transaction.
      if (commits.length > 0) claim = this.identities.groupClaim();
      records = await this.store.commitGroup(
        commits.map((w) => w.req!),
        claim,
      );
      commits.forEach((w, i) => this.publish(w, records![i]!));
    } catch (err) {
      failure = err;
    }
    const landed = records !== undefined;
    if (!landed && claim) this.identities.groupFailed();
    if (!landed) await this.discardStaged(base, failure);
    const done = this.inFlight;
    this.inFlight = undefined;
    done.resolve();
    if (landed || unflushed(failure)) {
      if (landed && !claim) this.identities.sync();
      // Committed but not confirmed durable: those writes fail as a lone write would.
      for (const w of staged) {
        if (w.error) w.write.reject(w.error.cause);
        else if (!landed && w.req) w.write.reject(failure);
        else w.write.resolve({ ...(w.record ? { record: w.record } : {}), result: w.result });
      }
      return;
    }
    // The group as a whole failed: each write runs again alone (a bad one fails alone).
    // A conflict was the first attempt (the reload caught up): one retry is left.
    const tried = failure instanceof VnpError && failure.code === 'VNP_ERR_CONFLICT' ? 1 : 0;
    for (const w of group) await this.writeAlone(w, tried);
  }

  /** A staged write committed as `record`: stamp its documents, move the revision, tell listeners. */
  private publish(w: StagedWrite, record: ChangeRecord): void {
    w.record = record;
    stampPuts(this.engine, w.req!.puts, record);
    this.revision = record.revision;
    this.listeners.tell(record, w.delta);
  }

  /** A group that did not commit: rebuild the model from the store if the group touched it. */
  private async discardStaged(base: number, failure: unknown): Promise<void> {
    this.log.warn({ err: failure }, 'group commit failed; committing its writes one by one');
    await this.reload();
    if (this.revision !== base) this.listeners.reloaded();
  }

  /** The classic path for one write (under the lock): plan, validate, commit, apply. */
  private async writeAlone(w: QueuedWrite, tried: number): Promise<void> {
    try {
      const { planned, out } = await commitAlone(
        this.host,
        tried,
        w.plan,
        (p, base) =>
          p.commit === false
            ? undefined
            : this.store.commit({
                ...batchOf(p.changes, base),
                actor: w.ctx.actor,
                action: w.ctx.action,
                at: new Date(this.now()).toISOString(),
              }),
        (record) => record,
      );
      w.resolve({ ...(out ? { record: out } : {}), result: planned.result });
    } catch (err) {
      w.reject(err);
    }
  }

  /**
   * Run one event write: like `write`, but the event row and its expiries are
   * committed in the same store transaction as the resource change
   * (`Store.commitEvent`), so an event costs one durable commit and is never
   * stored without the change it caused (or the reverse). With no changes only the
   * event and expiries are committed (no revision).
   *
   * @example
   *   const { event, record } = await manager.writeEvent((engine) => ({
   *     event: { at, type: 'ids.alert', target: 'web-1', actor: 'operator:ab12', reactions: [] },
   *     expiries: [], changes: [], actor: 'reaction:q', action: (id) => `event ids.alert id=${id}`,
   *   }));
   */
  writeEvent(plan: (engine: Engine) => EventPlan): Promise<EventCommitted> {
    return this.lock.run(async () => {
      const { out } = await commitAlone(
        this.host,
        0,
        plan,
        (p, base) =>
          this.store.commitEvent({
            event: p.event,
            expiries: p.expiries,
            ...(p.changes.length > 0
              ? { change: { ...batchOf(p.changes, base), actor: p.actor, action: p.action } }
              : {}),
          }),
        (o) => o.record,
      );
      return out!;
    });
  }

  /** A first revision conflict (another manager wrote): catch up so the caller plans again. */
  private async caughtUpAfterConflict(err: unknown, attempt: number): Promise<boolean> {
    if (attempt > 0 || !(err instanceof VnpError) || err.code !== 'VNP_ERR_CONFLICT') return false;
    await replayChangeLog(this.host);
    return true;
  }

  /**
   * Record an event that changes no resource (token creation, revocation) in the
   * audit log as an empty batch.
   *
   * @example
   *   await manager.audit({ actor: 'admin:ab12', action: 'token.create id=cd34 role=viewer' });
   */
  async audit(ctx: WriteContext): Promise<ChangeRecord | undefined> {
    const { record } = await this.write(ctx, () => ({ changes: [], result: undefined }));
    return record;
  }

  /** Apply every change-log entry past `revision` (under the lock). */
  catchUp(): Promise<void> {
    return this.lock.run(() => replayChangeLog(this.host));
  }

  /**
   * The store reports this manager's own commits too, before they are published (the
   * revision moves once the store's commit returned): whether anything is left to read
   * is decided under the lock, after the commit that reported it published, so an own
   * commit costs no read of the log.
   */
  private onStoreCommit(rev: number): void {
    if (this.closed || rev <= this.revision) return;
    this.reported = Math.max(this.reported, rev);
    this.queueCatchUp(false);
  }

  /** Queue reading the log behind the lock (`always`: even with nothing reported past the model). */
  private queueCatchUp(always: boolean): void {
    if (this.catchUpQueued) return;
    this.catchUpQueued = true;
    void this.lock
      .run(async () => {
        this.catchUpQueued = false;
        if (!this.closed && (always || this.reported > this.revision))
          await replayChangeLog(this.host);
      })
      .catch((err: unknown) => this.log.error({ err }, 'following the change log failed'));
  }

  private async reload(): Promise<void> {
    const { revision, documents, validatedBy } = await this.store.loadAll();
    const table = await this.identities.seed();
    const engine = new Engine({ identityGraceMs: this.identityGraceMs });
    // Documents this version's validation passed as a whole are not checked again; any
    // other stamp, or none, is a full validation (docs/adr/0059-trusted-model-load.md).
    const trusted = validatedBy === MODEL_VALIDATION;
    this.timed(() =>
      engine.load(documents, this.now(), {
        trusted,
        ...(table ? { identities: table.identities } : {}),
      }),
    );
    this.engine = engine;
    this.revision = revision;
    this.identities.loaded(table, revision);
  }

  private timed<T>(fn: () => T): T {
    const t0 = performance.now();
    const out = fn();
    this.lastCompileSeconds = (performance.now() - t0) / 1000;
    return out;
  }
}
