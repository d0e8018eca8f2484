/**
 * The model as the UI holds it: every resource, loaded once (pages of 1,000) and then
 * kept current by `GET /v1/watch` from the revision the load started at — so pages
 * switch without a request and a change made anywhere shows within the stream's delay.
 *
 * The first page of every kind is asked for at once and is enough to paint (`loaded`;
 * counts come from the pages' `total`); the rest follow in the background (`complete`),
 * so 10,000 records do not hold the first paint behind ten sequential requests.
 */
import type { VnpClient } from '../client/client.js';
import type { ApiResource, ListPage } from '../client/api-types.js';
import type { Kind } from '../model/types.js';
import { AnswerCache } from './answer-cache.js';

export const LIVE_KINDS = [
  'Subnet',
  'Instance',
  'Interface',
  'Partition',
  'Policy',
  'Reaction',
] as const satisfies readonly Kind[];
export type LiveKind = (typeof LIVE_KINDS)[number];

/** One change record of the watch stream (store ChangeRecord on the wire). */
export interface ChangeRecord {
  revision: number;
  at: string;
  actor: string;
  action: string;
  changes: {
    op: 'put' | 'delete';
    kind: Kind;
    name: string;
    before?: ApiResource;
    after?: ApiResource;
  }[];
}

const KEEP_CHANGES = 50;
/** The server's largest page. */
const PAGE = 1000;

/** Resources by kind and name, the revision they reflect, and the latest changes. */
export class LiveModel {
  revision = 0;
  /** The first page of every kind is in: enough to paint. */
  loaded = false;
  /** Every page is in (and the watch is followed). */
  complete = false;
  /** Bumped on every change: components compare it to re-render. */
  version = 0;
  readonly changes: ChangeRecord[] = [];
  /** Answers pages asked for, kept by revision and query (switching back shows them). */
  readonly answers = new AnswerCache();
  private readonly byKind = new Map<LiveKind, Map<string, ApiResource>>(
    LIVE_KINDS.map((k) => [k, new Map()]),
  );
  private readonly totals = new Map<LiveKind, number>();
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();

  constructor(private readonly client: VnpClient) {}

  /** Load the first pages (then `loaded`), the rest (then `complete`), then follow the watch. */
  async start(): Promise<void> {
    const ready = (await this.client.ready()).body as { revision?: number } | undefined;
    const from = ready?.revision ?? 0;
    const firsts = await Promise.all(
      LIVE_KINDS.map((k) => this.client.listPage(k, { limit: PAGE })),
    );
    const rest: Promise<void>[] = [];
    LIVE_KINDS.forEach((k, i) => {
      const first = firsts[i]!;
      this.add(k, first.items);
      this.totals.set(k, first.total ?? first.items.length);
      if (first.next) rest.push(this.loadRest(k, String(first.next)));
    });
    this.revision = from;
    this.loaded = true;
    this.notify();
    await Promise.all(rest);
    this.totals.clear();
    this.complete = true;
    this.notify();
    void this.follow(from);
  }

  private add(kind: LiveKind, items: ApiResource[]): void {
    const map = this.byKind.get(kind)!;
    for (const r of items) map.set(r.name, { ...r, kind } as ApiResource);
  }

  /** The pages after the first, in order (each needs the previous one's `next`). */
  private async loadRest(kind: LiveKind, after: string): Promise<void> {
    for (let next: string | undefined = after; next;) {
      const page: ListPage<ApiResource> = await this.client.listPage(kind, {
        limit: PAGE,
        after: next,
      });
      this.add(kind, page.items);
      next = page.next && page.next !== next ? String(page.next) : undefined;
    }
  }

  close(): void {
    this.abort.abort();
  }

  list<K extends LiveKind>(kind: K): ApiResource[] {
    return [...this.byKind.get(kind)!.values()];
  }

  get(kind: LiveKind, name: string): ApiResource | undefined {
    return this.byKind.get(kind)!.get(name);
  }

  /** How many there are (while loading: the server's total, not what has arrived). */
  count(kind: LiveKind): number {
    return this.totals.get(kind) ?? this.byKind.get(kind)!.size;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Apply one change record (replayed records at or below the revision are skipped). */
  applyRecord(r: ChangeRecord): void {
    if (typeof r.revision !== 'number' || !Array.isArray(r.changes)) return;
    if (r.revision <= this.revision) return;
    for (const c of r.changes) {
      const map = this.byKind.get(c.kind as LiveKind);
      if (!map) continue;
      if (c.op === 'delete') map.delete(c.name);
      else if (c.after) map.set(c.name, { ...c.after, kind: c.kind } as ApiResource);
    }
    this.revision = r.revision;
    this.changes.unshift(r);
    this.changes.length = Math.min(this.changes.length, KEEP_CHANGES);
    this.notify();
  }

  private notify(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  private async follow(from: number): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        for await (const ev of this.client.watch(this.revision || from, {
          signal: this.abort.signal,
        }))
          this.applyRecord(ev as unknown as ChangeRecord);
      } catch (e) {
        if (this.abort.signal.aborted) return;
        // History gone (a long sleep): reload everything from the current state.
        if ((e as { code?: string }).code === 'VNP_ERR_HISTORY_GONE') {
          for (const m of this.byKind.values()) m.clear();
          this.revision = 0;
          this.loaded = this.complete = false;
          await this.start();
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
