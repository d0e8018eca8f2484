/**
 * Runs async tasks one at a time, in call order. PGlite is a single
 * connection: a statement issued while another caller's transaction is open
 * would run inside that transaction, so every use goes through one queue.
 */

/**
 * A FIFO mutex for async work.
 *
 * @example
 *   const q = new SerialQueue();
 *   await Promise.all([q.run(() => a()), q.run(() => b())]); // b starts after a settles
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    // The queue continues whether the task succeeded or failed.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
