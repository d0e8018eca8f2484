/**
 * The model as the UI holds it: every resource, loaded once (pages of 1,000) and then
 * kept current by `GET /v1/watch` from the revision the load started at — so pages
 * switch without a request and a change made anywhere shows within the stream's delay.
 */
import type { VnpClient } from '../client/client.js';
import type { ApiResource } from '../client/api-types.js';
import type { Kind } from '../model/types.js';

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

/** Resources by kind and name, the revision they reflect, and the latest changes. */
export class LiveModel {
  revision = 0;
  loaded = false;
  /** Bumped on every change: components compare it to re-render. */
  version = 0;
  readonly changes: ChangeRecord[] = [];
  private readonly byKind = new Map<LiveKind, Map<string, ApiResource>>(
    LIVE_KINDS.map((k) => [k, new Map()]),
  );
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();

  constructor(private readonly client: VnpClient) {}

  /** Load everything, then follow the watch stream until close(). */
  async start(): Promise<void> {
    const ready = (await this.client.ready()).body as { revision?: number } | undefined;
    const from = ready?.revision ?? 0;
    const lists = await Promise.all(LIVE_KINDS.map((k) => this.client.list(k)));
    LIVE_KINDS.forEach((k, i) => {
      const map = this.byKind.get(k)!;
      for (const r of lists[i]!) map.set(r.name, r);
    });
    this.revision = from;
    this.loaded = true;
    this.notify();
    void this.follow(from);
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

  count(kind: LiveKind): number {
    return this.byKind.get(kind)!.size;
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
          await this.start();
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
