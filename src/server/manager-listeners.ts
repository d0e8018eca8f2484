/**
 * Who the Manager tells: record listeners (every applied change record, in revision
 * order) and reload listeners (the model was rebuilt outside the change log).
 */
import type { EngineDelta } from '../engine/index.js';
import type { ChangeRecord } from '../store/index.js';
import type { ManagerLog, RecordListener } from './manager-types.js';

/**
 * The Manager's listener sets; one failing listener does not stop the others.
 *
 * @example
 *   const listeners = new ManagerListeners(log);
 *   const off = listeners.onRecord((record) => console.log(record.revision));
 */
export class ManagerListeners {
  private readonly records = new Set<RecordListener>();
  private readonly reloads = new Set<() => void>();

  constructor(private readonly log: ManagerLog) {}

  onRecord(listener: RecordListener): () => void {
    this.records.add(listener);
    return () => this.records.delete(listener);
  }

  onReload(listener: () => void): () => void {
    this.reloads.add(listener);
    return () => this.reloads.delete(listener);
  }

  /** Tell every record listener of an applied record (delta undefined: reloaded). */
  tell(record: ChangeRecord, delta: EngineDelta | undefined): void {
    for (const listener of this.records) {
      try {
        listener(record, delta);
      } catch (err) {
        this.log.warn({ err }, 'a change listener failed');
      }
    }
  }

  /** Tell every reload listener that the model was rebuilt. */
  reloaded(): void {
    for (const listener of this.reloads) listener();
  }

  /** Forget the record listeners (the manager closes). */
  clear(): void {
    this.records.clear();
  }
}
