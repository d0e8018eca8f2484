/**
 * The onCommit fan-out shared by both backends. Reports are strictly
 * increasing: a report of N means every revision ≤ N is committed and readable
 * (writers serialize on the revision row), but intermediate revisions may be
 * skipped, so a listener catches up with `changesSince(itsRevision)`.
 */

export type CommitListener = (revision: number) => void;

/**
 * Listener set with monotone reports; a throwing listener never breaks others.
 *
 * @example
 *   const l = new CommitListeners(); const off = l.add((r) => console.log(r)); l.report(3); off();
 */
export class CommitListeners {
  private readonly listeners = new Set<CommitListener>();
  private highest = 0;

  /** Register; returns the unsubscribe function. */
  add(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Report a committed revision; ignored unless newer than the last report. */
  report(revision: number): void {
    if (revision <= this.highest) return;
    this.highest = revision;
    for (const listener of [...this.listeners]) {
      try {
        listener(revision);
      } catch {
        // A listener's bug must not undo or hide a durable commit.
      }
    }
  }
}
