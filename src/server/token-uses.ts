/**
 * Last use of each token, recorded cheaply: authenticating a request only notes the
 * time in memory; the notes are written to the store in one statement per flush
 * period (default a minute), and on close. So `vnp token list` shows a last use at
 * most one period stale (this manager adds its unflushed notes when it lists), and a
 * busy token costs no write per request.
 */
import type { Store, TokenRecord } from '../store/index.js';

/** Batches token uses and writes them periodically. */
export class TokenUses {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  /**
   * @example
   *   const uses = new TokenUses(store, Date.now, 60_000); uses.note('ab12');
   */
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly flushMs = 60_000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** A request authenticated with token `id` now. O(1), no I/O. */
  note(id: string): void {
    this.pending.set(id, this.now());
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Write every pending note in one statement (serialised with earlier flushes). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return this.flushing;
    const batch = [...this.pending].map(([id, ms]) => ({ id, at: new Date(ms).toISOString() }));
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.store.touchTokens(batch).catch(this.onError));
    return this.flushing;
  }

  /**
   * Tokens as listed, with this manager's unflushed uses folded in.
   *
   * @example
   *   uses.withPending(await store.listTokens())
   */
  withPending<T extends Pick<TokenRecord, 'id' | 'lastUsedAt'>>(tokens: T[]): T[] {
    return tokens.map((token) => {
      const ms = this.pending.get(token.id);
      if (ms === undefined) return token;
      const at = new Date(ms).toISOString();
      return !token.lastUsedAt || token.lastUsedAt < at ? { ...token, lastUsedAt: at } : token;
    });
  }
}
