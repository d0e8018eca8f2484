/**
 * Staging a group commit (docs/adr/0014-group-commit.md): each queued write is
 * planned, validated and applied on the live model in arrival order, so each sees
 * the ones before it; the caller then commits the staged requests as one store
 * transaction (src/server/manager.ts).
 */
import type { Change, Engine, EngineDelta } from '../engine/index.js';
import { stripMeta } from '../model/strip-meta.js';
import type { Document } from '../model/types.js';
import type { ChangeRecord, CommitRequest } from '../store/index.js';
import { EMPTY_DELTA, type Plan, type WriteContext } from './manager-types.js';

/** Most writes one group commit takes (one transaction, one fsync). */
export const MAX_GROUP = 256;

/** A write waiting for its group. */
export interface QueuedWrite {
  ctx: WriteContext;
  plan: (engine: Engine) => Plan<unknown>;
  resolve: (out: { record?: ChangeRecord; result: unknown }) => void;
  reject: (err: unknown) => void;
}

/** A write of a group after staging: refused (`error`), nothing to commit, or applied (`req`). */
export interface StagedWrite {
  write: QueuedWrite;
  error?: { cause: unknown };
  result?: unknown;
  req?: CommitRequest;
  delta?: EngineDelta;
  record?: ChangeRecord;
}

/**
 * The store batch of engine changes, on top of `baseRevision`.
 *
 * @example batchOf([{ op: 'delete', kind: 'Interface', name: 'web-1' }], 7) // { baseRevision: 7, puts: [], deletes: [{ kind: 'Interface', name: 'web-1' }] }
 */
export function batchOf(
  changes: Change[],
  baseRevision: number,
): Pick<CommitRequest, 'baseRevision' | 'puts' | 'deletes'> {
  return {
    baseRevision,
    puts: changes.flatMap((c) => (c.op === 'put' ? [c.doc] : [])),
    deletes: changes.flatMap((c) => (c.op === 'delete' ? [{ kind: c.kind, name: c.name }] : [])),
  };
}

/** What staging reads and how it applies: the live model at `revision`. */
export interface StageContext {
  engine: Engine;
  revision: number;
  now: () => number;
  /** Runs an engine apply, timing it for /metrics. */
  timed: <T>(fn: () => T) => T;
}

/**
 * Plan, validate and apply each write on the live model, in arrival order, so
 * each sees the ones before it. Throws only when the model may be damaged (an
 * apply that failed after validation): the caller then reloads.
 *
 * @example const staged = stageGroup(group, { engine, revision, now: Date.now, timed: (f) => f() });
 */
export function stageGroup(group: QueuedWrite[], ctx: StageContext): StagedWrite[] {
  const { engine } = ctx;
  const staged: StagedWrite[] = [];
  let revision = ctx.revision;
  for (const write of group) {
    let planned: Plan<unknown>;
    try {
      planned = write.plan(engine);
      if (planned.commit !== false && planned.changes.length > 0) engine.validate(planned.changes);
    } catch (error) {
      staged.push({ write, error: { cause: error } });
      continue;
    }
    if (planned.commit === false) {
      staged.push({ write, result: planned.result });
      continue;
    }
    const at = new Date(ctx.now()).toISOString();
    // Own copies: the model holds them and they get the store's metadata on publish.
    const changes = planned.changes.map((c): Change =>
      c.op === 'put' ? { op: 'put', doc: stripMeta(c.doc) as Document } : c,
    );
    const req: CommitRequest = {
      ...batchOf(changes, revision++),
      actor: write.ctx.actor,
      action: write.ctx.action,
      at,
    };
    const delta =
      changes.length > 0 ? ctx.timed(() => engine.apply(changes, Date.parse(at))) : EMPTY_DELTA;
    staged.push({ write, result: planned.result, req, delta });
  }
  return staged;
}

/**
 * Give the model's copies of a committed write's documents the store's metadata
 * (`record.changes` lists the puts first, in request order: Store.commit).
 *
 * @example stampPuts(engine, staged.req!.puts, record);
 */
export function stampPuts(engine: Engine, puts: readonly Document[], record: ChangeRecord): void {
  puts.forEach((doc, i) => {
    const after = record.changes[i]?.after;
    const held = engine.get(doc.kind, doc.name);
    if (after && held === doc)
      Object.assign(held, {
        revision: after.revision,
        createdAt: after.createdAt,
        updatedAt: after.updatedAt,
      });
  });
}
