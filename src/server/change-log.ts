/**
 * Following the store's change log (src/server/manager.ts): committed records are
 * applied to the model in revision order, never from a notification payload; a gap
 * (the log was compacted past the model's revision) or a record the model cannot
 * follow rebuilds the model from the store, which is the truth.
 */
import type { Change, EngineDelta } from '../engine/index.js';
import type { ChangeRecord, Store } from '../store/index.js';
import { toEngineChange, type ManagerLog } from './manager-types.js';

/** What following the log reads from and asks of its manager (under its lock). */
export interface ChangeLogHost {
  store: Store;
  log: ManagerLog;
  /** The store revision the model reflects. */
  revision(): number;
  /** Apply a record's changes to the model at its commit time and move to its revision (throws if the model cannot follow). */
  advance(record: ChangeRecord, changes: Change[]): EngineDelta;
  /** Rebuild the model from the store. */
  reload(): Promise<void>;
  /** A record was applied (delta undefined: the model was reloaded). */
  applied(record: ChangeRecord, delta: EngineDelta | undefined): void;
}

/**
 * Apply one committed record to the model (ignored when the model is past it).
 *
 * @example await applyCommitted(host, record);
 */
export async function applyCommitted(h: ChangeLogHost, record: ChangeRecord): Promise<void> {
  if (record.revision <= h.revision()) return;
  const changes = record.changes.map(toEngineChange);
  // undefined after a reload: the whole model may have changed.
  let delta: EngineDelta | undefined;
  try {
    delta = h.advance(record, changes);
  } catch (err) {
    // The store is the truth: if the model cannot follow (a bug, or a writer that
    // skipped validation), rebuild it from the store rather than diverge.
    h.log.error(
      { err, revision: record.revision },
      'applying a committed change failed; reloading',
    );
    await h.reload();
    delta = undefined;
  }
  h.applied(record, delta);
}

/**
 * Apply every change-log entry past the model's revision, in pages.
 *
 * @example await replayChangeLog(host);
 */
export async function replayChangeLog(h: ChangeLogHost): Promise<void> {
  for (;;) {
    const records = await h.store.changesSince(h.revision(), 500);
    if (records.length === 0) return;
    if (records[0]!.revision !== h.revision() + 1) {
      // The log was compacted past our revision: replaying it would skip changes.
      h.log.warn(
        { at: h.revision(), next: records[0]!.revision },
        'change log gap; reloading the model',
      );
      await h.reload();
      continue;
    }
    for (const record of records) await applyCommitted(h, record);
  }
}
