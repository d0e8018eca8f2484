/**
 * The one-write path of the Manager (under its lock): plan, validate, commit, apply;
 * on a first revision conflict (another manager wrote) catch up and plan again, once.
 * Used for events (one transaction with their rows) and for writes of a group that
 * failed as a whole (src/server/manager.ts).
 */
import type { Change, Engine } from '../engine/index.js';
import type { ChangeRecord } from '../store/index.js';

/** What the one-write path reads from and asks of its manager. */
export interface SingleWriteHost {
  engine(): Engine;
  /** The store revision the engine reflects (the base of the next commit). */
  revision(): number;
  /** After a failed commit: true when it was a first conflict and the model caught up. */
  caughtUp(err: unknown, attempt: number): Promise<boolean>;
  /** Apply a committed record to the model and tell listeners. */
  apply(record: ChangeRecord): Promise<void>;
}

/**
 * Plan, validate, commit and apply one write. `commit` gets the plan and the base
 * revision; it answers undefined when there is nothing to commit (a plan with
 * `commit: false` is not validated either).
 *
 * @example
 *   const { out } = await commitAlone(host, 0, plan, (p, base) => store.commit({ ... }), (r) => r);
 */
export async function commitAlone<P extends { changes: Change[]; commit?: boolean }, O>(
  host: SingleWriteHost,
  firstAttempt: number,
  plan: (engine: Engine) => P,
  commit: (planned: P, baseRevision: number) => Promise<O> | undefined,
  recordOf: (out: O) => ChangeRecord | undefined,
): Promise<{ planned: P; out: O | undefined }> {
  for (let attempt = firstAttempt; ; attempt++) {
    const planned = plan(host.engine());
    if (planned.commit !== false && planned.changes.length > 0)
      host.engine().validate(planned.changes);
    let out: O | undefined;
    try {
      out = await commit(planned, host.revision());
    } catch (err) {
      if (await host.caughtUp(err, attempt)) continue;
      throw err;
    }
    const record = out === undefined ? undefined : recordOf(out);
    if (record) await host.apply(record);
    return { planned, out };
  }
}
