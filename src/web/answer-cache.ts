/**
 * Answers the pages asked for, kept for the session under a key that names what they
 * depend on (the model revision and the query), so switching back to a page shows its
 * answer at once instead of asking again. Bounded: the oldest keys go first.
 */
export class AnswerCache {
  private readonly answers = new Map<string, unknown>();

  constructor(private readonly max = 32) {}

  has(key: string): boolean {
    return this.answers.has(key);
  }

  get<T>(key: string): T | undefined {
    return this.answers.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    this.answers.delete(key);
    this.answers.set(key, value);
    while (this.answers.size > this.max) this.answers.delete(this.answers.keys().next().value!);
  }
}
