/**
 * The Manager: owns the engine (the in-memory, compiled model), the store (the
 * durable truth) and the single write lock (docs/adr/0004-server.md).
 *
 * Invariants:
 * - `revision` is the store revision the engine reflects; reads are served from
 *   the engine and never touch the store. While a group commit is in flight the
 *   engine is ahead of `revision` (`settled()` is defined) and requests wait.
 * - Writes run in groups under the lock (docs/adr/0014-group-commit.md): each is
 *   planned, validated and applied in order, then the group is one store
 *   transaction. A write rejected before the commit changes nothing; a write is
 *   acknowledged only once its group is durable; a failed group is reloaded and
 *   its writes run one by one (plan → validate → commit → apply).
 * - Changes by other managers sharing the database are applied from the change
 *   log (`changesSince`), never from a notification payload, in revision order.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { Engine } from '../engine/index.js';
import type { Change, EngineDelta } from '../engine/index.js';
import { VnpError } from '../model/errors.js';
import { stripMeta } from '../model/strip-meta.js';
import type { Document } from '../model/types.js';
import type {
  ChangeEntry,
  ChangeRecord,
  CommitRequest,
  EventCommit,
  EventCommitted,
  IdentityClaim,
  IdentityRow,
  Store,
} from '../store/index.js';
import { Mutex } from './mutex.js';

/** Who writes and why, as recorded in the audit log. */
export interface WriteContext {
  actor: string;
  action: string;
}

/** What a write plan decided, computed under the lock from the current model. */
export interface Plan<T> {
  changes: Change[];
  /** Returned to the caller beside the committed record. */
  result: T;
  /** False: nothing to commit (dry run, nothing changed). Default true. */
  commit?: boolean;
}

/**
 * What an event write decided under the lock (see Manager.writeEvent): the event
 * row, its expiries and the resource changes it causes (possibly none).
 */
export interface EventPlan extends Omit<EventCommit, 'change'> {
  changes: Change[];
  /** Who the change is audited as, e.g. `reaction:quarantine`. */
  actor: string;
  /** The audit action, given the id the store assigns the event. */
  action: (eventId: number) => string;
}

/** Minimal logger the manager reports to (Fastify's pino logger fits). */
export interface ManagerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ManagerOptions {
  store: Store;
  now?: () => number;
  log?: ManagerLog;
  /** Identity reuse grace period handed to the engine. */
  identityGraceMs?: number;
}

const silentLog: ManagerLog = { info() {}, warn() {}, error() {} };

/** Convert a change-log entry back to the engine change it records. */
function toEngineChange(e: ChangeEntry): Change {
  if (e.op === 'delete') return { op: 'delete', kind: e.kind, name: e.name };
  if (!e.after)
    throw new VnpError('VNP_ERR_INTERNAL', `change log entry ${e.kind}/${e.name} has no document`);
  return { op: 'put', doc: e.after };
}

/**
 * Told of every applied change record with the engine's delta for it (undefined when
 * the model was reloaded and anything may have changed).
 */
export type RecordListener = (record: ChangeRecord, delta: EngineDelta | undefined) => void;

const EMPTY_DELTA: EngineDelta = {
  ipcacheUpsert: [],
  ipcacheRemove: [],
  identitiesAdded: [],
  identitiesReleased: [],
  sides: [],
  defaults: [],
  records: [],
  hosts: [],
  steering: false,
};

/** Most writes one group commit takes (one transaction, one fsync). */
const MAX_GROUP = 256;

/** A write waiting for its group. */
interface QueuedWrite {
  ctx: WriteContext;
  plan: (engine: Engine) => Plan<unknown>;
  resolve: (out: { record?: ChangeRecord; result: unknown }) => void;
  reject: (err: unknown) => void;
}

/** A write of a group after staging: refused (`error`), nothing to commit, or applied (`req`). */
interface StagedWrite {
  write: QueuedWrite;
  error?: { cause: unknown };
  result?: unknown;
  req?: CommitRequest;
  delta?: EngineDelta;
  record?: ChangeRecord;
}

/** The store committed but could not confirm durability (see SqlStore.makeDurable). */
function unflushed(err: unknown): boolean {
  return (
    err instanceof VnpError &&
    err.code === 'VNP_ERR_UNAVAILABLE' &&
    err.details?.revision !== undefined
  );
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

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
  private readersWaiting = 0;
  private readonly listeners = new Set<RecordListener>();
  private unsubscribe: (() => void) | undefined;
  private catchUpQueued = false;
  private closed = false;
  private readonly reloadListeners = new Set<() => void>();
  /**
   * The fingerprint the identity table will hold once this manager's queued claims
   * landed, if it matches this manager's allocations (undefined: unknown — the next
   * claim carries every row).
   */
  private tableFingerprint: string | undefined;
  private identitySync: Promise<void> = Promise.resolve();
  /** The revision an identity resync last ran at (never loop on one revision). */
  private identityResyncAt = -1;

  /**
   * @example
   *   const manager = new Manager({ store });
   *   await manager.start();
   */
  constructor(opts: ManagerOptions) {
    this.store = opts.store;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLog;
    this.identityGraceMs = opts.identityGraceMs ?? 30_000;
    this.engine = new Engine({ identityGraceMs: this.identityGraceMs });
  }

  /** Migrate, load the whole model, then follow commits of other managers. */
  async start(): Promise<void> {
    await this.store.migrate();
    await this.lock.run(() => this.reload());
    this.loaded = true;
    this.syncIdentities();
    this.unsubscribe = await this.store.onCommit((rev) => this.onStoreCommit(rev));
    // A commit may have landed between loadAll and the subscription.
    this.onStoreCommit(Number.MAX_SAFE_INTEGER);
  }

  /** Stop following the store; the caller closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.listeners.clear();
    await this.identitySync;
    await this.lock.run(() => undefined);
  }

  /**
   * Subscribe to every change record the engine applies (own and others', in
   * revision order). Returns the unsubscribe function.
   *
   * @example
   *   const off = manager.onRecord((r) => stream.write(JSON.stringify(r) + '\n'));
   */
  onRecord(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Told when the model was rebuilt outside the change log (identity resync): anything
   * derived from it must be rebuilt too. Returns the unsubscribe function.
   *
   * @example manager.onReload(() => feed.reset(manager.revision, manager.engine.hostDelta()));
   */
  onReload(listener: () => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /** Resolves once the identity allocations of the current revision were recorded or checked. */
  identitiesSettled(): Promise<void> {
    return this.identitySync;
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
   * Resolves once no group is in flight: while a group commits, the model already
   * holds its writes, so reads wait for it (they never see what is not yet durable).
   * Undefined when nothing is in flight.
   */
  settled(): Promise<void> | undefined {
    if (!this.inFlight) return undefined;
    this.readersWaiting++;
    return this.inFlight.promise;
  }

  /** Queue one group commit of the pending writes behind the lock (at most one queued). */
  private scheduleGroup(): void {
    if (this.groupQueued) return;
    this.groupQueued = true;
    void this.lock
      .run(async () => {
        this.groupQueued = false;
        const group = this.pending.splice(0, MAX_GROUP);
        if (this.pending.length > 0) this.scheduleGroup();
        if (group.length > 0) await this.commitGroup(group);
      })
      .catch((err: unknown) => this.log.error({ err }, 'group commit failed'));
  }

  /** Stage, commit and publish one group (under the lock); settles every write of it. */
  private async commitGroup(group: QueuedWrite[]): Promise<void> {
    // Reads that waited on the previous group run before this one touches the model.
    if (this.readersWaiting > 0) await turn();
    this.readersWaiting = 0;
    this.inFlight = deferred();
    const base = this.revision;
    let staged: StagedWrite[] = [];
    let records: ChangeRecord[] | undefined;
    let failure: unknown;
    try {
      staged = this.stage(group);
      const commits = staged.filter((w) => w.req !== undefined);
      records = await this.store.commitGroup(commits.map((w) => w.req!));
      commits.forEach((w, i) => this.publish(w, records![i]!));
    } catch (err) {
      failure = err;
    }
    const landed = records !== undefined;
    if (!landed) await this.discardStaged(base, failure);
    const done = this.inFlight;
    this.inFlight = undefined;
    done.resolve();
    if (landed || unflushed(failure)) {
      if (landed) this.syncIdentities();
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

  /**
   * Plan, validate and apply each write on the live model, in arrival order, so
   * each sees the ones before it. Throws only when the model may be damaged (an
   * apply that failed after validation): the caller then reloads.
   */
  private stage(group: QueuedWrite[]): StagedWrite[] {
    const staged: StagedWrite[] = [];
    let revision = this.revision;
    for (const write of group) {
      let planned: Plan<unknown>;
      try {
        planned = write.plan(this.engine);
        if (planned.commit !== false && planned.changes.length > 0)
          this.engine.validate(planned.changes);
      } catch (error) {
        staged.push({ write, error: { cause: error } });
        continue;
      }
      if (planned.commit === false) {
        staged.push({ write, result: planned.result });
        continue;
      }
      const at = new Date(this.now()).toISOString();
      // Own copies: the model holds them and they get the store's metadata on publish.
      const changes = planned.changes.map((c): Change =>
        c.op === 'put' ? { op: 'put', doc: stripMeta(c.doc) as Document } : c,
      );
      const req: CommitRequest = {
        ...this.batch(changes),
        baseRevision: revision++,
        actor: write.ctx.actor,
        action: write.ctx.action,
        at,
      };
      const delta =
        changes.length > 0
          ? this.timed(() => this.engine.apply(changes, Date.parse(at)))
          : EMPTY_DELTA;
      staged.push({ write, result: planned.result, req, delta });
    }
    return staged;
  }

  /** A staged write committed as `record`: stamp its documents, move the revision, tell listeners. */
  private publish(w: StagedWrite, record: ChangeRecord): void {
    w.record = record;
    const puts = w.req!.puts;
    // record.changes lists the puts first, in request order (Store.commit).
    puts.forEach((doc, i) => {
      const after = record.changes[i]?.after;
      const held = this.engine.get(doc.kind, doc.name);
      if (after && held === doc)
        Object.assign(held, {
          revision: after.revision,
          createdAt: after.createdAt,
          updatedAt: after.updatedAt,
        });
    });
    this.revision = record.revision;
    this.tell(record, w.delta);
  }

  /** A group that did not commit: rebuild the model from the store if the group touched it. */
  private async discardStaged(base: number, failure: unknown): Promise<void> {
    this.log.warn({ err: failure }, 'group commit failed; committing its writes one by one');
    await this.reload();
    if (this.revision !== base) for (const l of this.reloadListeners) l();
  }

  /** The classic path for one write (under the lock): plan, validate, commit, apply. */
  private async writeAlone(w: QueuedWrite, tried: number): Promise<void> {
    try {
      for (let attempt = tried; ; attempt++) {
        const planned = w.plan(this.engine);
        if (planned.commit === false) return w.resolve({ result: planned.result });
        if (planned.changes.length > 0) this.engine.validate(planned.changes);
        let record: ChangeRecord;
        try {
          record = await this.store.commit({
            ...this.batch(planned.changes),
            actor: w.ctx.actor,
            action: w.ctx.action,
            at: new Date(this.now()).toISOString(),
          });
        } catch (err) {
          if (await this.caughtUpAfterConflict(err, attempt)) continue;
          throw err;
        }
        await this.applyRecord(record);
        return w.resolve({ record, result: planned.result });
      }
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
      for (let attempt = 0; ; attempt++) {
        const p = plan(this.engine);
        if (p.changes.length > 0) this.engine.validate(p.changes);
        let out: EventCommitted;
        try {
          out = await this.store.commitEvent({
            event: p.event,
            expiries: p.expiries,
            ...(p.changes.length > 0
              ? { change: { ...this.batch(p.changes), actor: p.actor, action: p.action } }
              : {}),
          });
        } catch (err) {
          if (await this.caughtUpAfterConflict(err, attempt)) continue;
          throw err;
        }
        if (out.record) await this.applyRecord(out.record);
        return out;
      }
    });
  }

  /** A first revision conflict (another manager wrote): catch up so the caller plans again. */
  private async caughtUpAfterConflict(err: unknown, attempt: number): Promise<boolean> {
    if (attempt > 0 || !(err instanceof VnpError) || err.code !== 'VNP_ERR_CONFLICT') return false;
    await this.catchUpLocked();
    return true;
  }

  /** The store batch of engine changes, at the engine's revision. */
  private batch(changes: Change[]): Pick<CommitRequest, 'baseRevision' | 'puts' | 'deletes'> {
    return {
      baseRevision: this.revision,
      puts: changes.flatMap((c) => (c.op === 'put' ? [c.doc] : [])),
      deletes: changes.flatMap((c) => (c.op === 'delete' ? [{ kind: c.kind, name: c.name }] : [])),
    };
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
    return this.lock.run(() => this.catchUpLocked());
  }

  private onStoreCommit(rev: number): void {
    if (this.closed || rev <= this.revision || this.catchUpQueued) return;
    this.catchUpQueued = true;
    void this.lock
      .run(async () => {
        this.catchUpQueued = false;
        if (!this.closed) await this.catchUpLocked();
      })
      .catch((err: unknown) => this.log.error({ err }, 'following the change log failed'));
  }

  private async catchUpLocked(): Promise<void> {
    for (;;) {
      const records = await this.store.changesSince(this.revision, 500);
      if (records.length === 0) return;
      if (records[0]!.revision !== this.revision + 1) {
        // The log was compacted past our revision: replaying it would skip changes.
        this.log.warn(
          { at: this.revision, next: records[0]!.revision },
          'change log gap; reloading the model',
        );
        await this.reload();
        continue;
      }
      for (const record of records) await this.applyRecord(record);
    }
  }

  /** Apply a committed record to the engine and tell the watchers. */
  private async applyRecord(record: ChangeRecord): Promise<void> {
    if (record.revision <= this.revision) return;
    const changes = record.changes.map(toEngineChange);
    // undefined after a reload: the whole model may have changed.
    let delta: EngineDelta | undefined = EMPTY_DELTA;
    try {
      // The commit time, not the local clock: every manager replaying the log derives the
      // same identity grace periods, hence the same identity numbers.
      if (changes.length > 0)
        delta = this.timed(() => this.engine.apply(changes, Date.parse(record.at)));
      this.revision = record.revision;
    } catch (err) {
      // The store is the truth: if the model cannot follow (a bug, or a writer that
      // skipped validation), rebuild it from the store rather than diverge.
      this.log.error(
        { err, revision: record.revision },
        'applying a committed change failed; reloading',
      );
      await this.reload();
      delta = undefined;
    }
    this.tell(record, delta);
    this.syncIdentities();
  }

  /** Tell every record listener (one failing listener does not stop the others). */
  private tell(record: ChangeRecord, delta: EngineDelta | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(record, delta);
      } catch (err) {
        this.log.warn({ err }, 'a change listener failed');
      }
    }
  }

  /**
   * The database decides identity numbers (docs/adr/0007-distribution.md): record this
   * revision's allocations first-writer-wins — only the rows this revision changed,
   * unless the table may not hold this manager's previous allocations; if another
   * manager recorded this revision with different numbers (fingerprints differ), or
   * the table holds none of ours, rebuild the model seeded from the database.
   * O(changed identities) per revision.
   */
  private syncIdentities(): void {
    const store = this.store;
    const revision = this.revision;
    const { upsert, remove, before, after } = this.engine.takeIdentityChanges();
    const changed = upsert.length > 0 || remove.length > 0;
    // One manager per PGlite data dir: only changes need recording (for restarts). With
    // PostgreSQL every revision is claimed, so a manager that diverged is caught.
    if (!changed && store.backend !== 'postgres') return;
    const claim: IdentityClaim = { revision, base: before, fingerprint: after, upsert, remove };
    if (this.tableFingerprint !== before) claim.all = this.engine.identityAllocations();
    this.tableFingerprint = after;
    this.identitySync = this.identitySync
      .then(async () => {
        if (this.closed) return;
        const table = await store.claimIdentities(claim);
        if (table.claimed) return;
        // The table is ahead: checked at a later revision.
        if (table.revision > revision) return;
        if (table.revision === revision && table.fingerprint === after) return;
        this.tableFingerprint = undefined;
        if (this.identityResyncAt === revision) return;
        this.identityResyncAt = revision;
        this.log.warn(
          { revision, table: table.revision },
          'identity numbers differ from the database; reloading seeded from it',
        );
        await this.lock.run(async () => {
          if (this.closed) return;
          await this.reload();
          for (const l of this.reloadListeners) l();
        });
      })
      .catch((err: unknown) => {
        // Unknown whether it landed: the next claim carries every row.
        this.tableFingerprint = undefined;
        this.log.warn({ err }, 'recording identity allocations failed');
      });
  }

  /** The persisted allocations to seed a load with (none when the table is empty or unreadable). */
  private async identitySeed(): Promise<IdentityRow[] | undefined> {
    try {
      const t = await this.store.loadIdentities();
      return t.revision > 0 ? t.identities : undefined;
    } catch (err) {
      this.log.warn({ err }, 'reading identity allocations failed; numbering by load order');
      return undefined;
    }
  }

  private async reload(): Promise<void> {
    const { revision, documents } = await this.store.loadAll();
    const identities = await this.identitySeed();
    const engine = new Engine({ identityGraceMs: this.identityGraceMs });
    this.timed(() => engine.load(documents, this.now(), identities ? { identities } : {}));
    this.engine = engine;
    this.revision = revision;
    this.tableFingerprint = undefined; // a new engine: its first claim carries every row
  }

  private timed<T>(fn: () => T): T {
    const t0 = performance.now();
    const out = fn();
    this.lastCompileSeconds = (performance.now() - t0) / 1000;
    return out;
  }
}
