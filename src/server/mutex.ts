/**
 * A FIFO async mutex: the manager's single writer lock. Holding it across
 * validate → commit → apply keeps the in-memory model and the store in step.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /**
   * Run `fn` once every earlier holder has finished (even if they failed).
   *
   * @example
   *   await mutex.run(async () => commitSomething());
   */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
