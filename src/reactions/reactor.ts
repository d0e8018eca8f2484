/**
 * The reactions runtime inside a manager: turns events into ONE normal write
 * each (validated, committed, audited as `reaction:<name>`, distributed like any
 * change) and undoes expired TTLs from a timer. It holds no state that matters
 * across restarts: expiries live in the store, and `start()` undoes every one
 * already past due at once.
 *
 * It talks to the manager through `ReactorHost` (the Manager satisfies it), so
 * this file needs no server import. Time comes only from `host.now()`.
 *
 * Invariants:
 * - Events and expiries are handled one at a time (own FIFO queue); the write
 *   itself runs under the manager's lock like every other write.
 * - An event is ONE store transaction (Store.commitEvent): the event row, its
 *   expiries and the tag change with its audit row commit together or not at
 *   all, so there is never a reaction tag without the expiry that undoes it,
 *   nor an event stored without the change it caused; one durable commit each.
 * - Undo is idempotent, so a crash after the undo commit but before the expiry
 *   row is deleted only repeats a no-op.
 */
import type { Engine } from '../engine/index.js';
import type { Change } from '../engine/index.js';
import { VnpError } from '../model/errors.js';
import { formatIp, parseIp } from '../model/net.js';
import { stripMeta } from '../model/strip-meta.js';
import { canonicalTagsJson } from '../model/tags.js';
import type { Document, Interface, Reaction, Tags } from '../model/types.js';
import { validateResource } from '../validate/validate.js';
import type { ChangeRecord } from '../model/change-log.js';
import type {
  EventCommit,
  EventCommitted,
  ReactionExpiry,
  StoredEvent,
} from '../model/event-log.js';
import type { EventInput } from './event-input.js';
import { planReactions, undoExpiry } from './plan.js';

/** What the reactor reads and deletes in the store (the manager passes its Store). */
export interface ReactionStore {
  listEvents(limit: number): Promise<StoredEvent[]>;
  /** Every pending expiry, soonest first. */
  listExpiries(): Promise<ReactionExpiry[]>;
  /** Drops the expiry of (record, reaction); false when there was none. */
  deleteExpiry(record: string, reaction: string): Promise<boolean>;
}

/** An event write as the reactor plans it (the Manager's `EventPlan`). */
export interface ReactorEventPlan extends Omit<EventCommit, 'change'> {
  changes: Change[];
  actor: string;
  action: (eventId: number) => string;
}

/** The manager as the reactor sees it. */
export interface ReactorHost {
  readonly engine: Engine;
  readonly store: ReactionStore;
  now(): number;
  /** Plan under the write lock; commit event, expiries and changes in one transaction. */
  writeEvent(plan: (engine: Engine) => ReactorEventPlan): Promise<EventCommitted>;
  write<T>(
    ctx: { actor: string; action: string },
    plan: (engine: Engine) => { changes: Change[]; result: T; commit?: boolean },
  ): Promise<{ record?: ChangeRecord; result: T }>;
  onRecord(listener: (r: ChangeRecord) => void): () => void;
}

/** What handling one event did. */
export interface EventOutcome {
  event: StoredEvent;
  /** Revision of the tag change, when the tags changed. */
  revision?: number;
  /** Expiries created or extended. */
  expiries: ReactionExpiry[];
}

/** Longest the timer sleeps before looking again (a safety net for clock jumps). */
const MAX_SLEEP_MS = 60_000;

/** Run async jobs one at a time, in order. */
class Queue {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const out = this.tail.then(fn);
    this.tail = out.then(
      () => undefined,
      () => undefined,
    );
    return out;
  }
}

/** The record document with new tags, validated, metadata dropped. */
function withTags(doc: Interface, tags: Tags): Document {
  const { kind: _k, ...fields } = stripMeta(doc as Interface & { kind?: string });
  return validateResource('Interface', { ...fields, tags }) as Document;
}

/**
 * One reactor per manager.
 *
 * @example
 *   const reactor = new Reactor(manager);
 *   await reactor.start();
 *   await reactor.handleEvent({ type: 'ids.alert', target: 'web-1' }, 'operator:ab12');
 */
export class Reactor {
  private readonly queue = new Queue();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires, on the host clock. */
  private timerAt = 0;
  private stopped = false;
  private addressIndex: Map<string, string> | undefined;
  private readonly off: () => void;

  constructor(private readonly host: ReactorHost) {
    // Any committed change may move addresses: rebuild the index lazily.
    this.off = host.onRecord(() => (this.addressIndex = undefined));
  }

  /** Undo every expiry already past due, then keep a timer for the next one. */
  async start(): Promise<void> {
    await this.runDue();
  }

  /** Stop the timer (pending jobs finish). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.off();
    if (this.timer) clearTimeout(this.timer);
    await this.queue.run(async () => undefined);
  }

  /**
   * The record a target names: a record name, or an address one of its records holds.
   *
   * @example reactor.resolveTarget('10.0.0.5') // 'web-1'
   */
  resolveTarget(target: string): string | undefined {
    if (this.host.engine.get('Interface', target)) return target;
    const ip = parseIp(target);
    if (!ip) return undefined;
    if (!this.addressIndex) {
      const index = new Map<string, string>();
      for (const d of this.host.engine.list('Interface')) {
        for (const a of (d as Interface).ips) {
          const p = parseIp(a);
          if (p) index.set(formatIp(p), d.name);
        }
      }
      this.addressIndex = index;
    }
    return this.addressIndex.get(formatIp(ip));
  }

  /**
   * Store an event and apply the reactions it fires as one write. The target is
   * a record name or an IP address (an address no record holds is stored, with no
   * record and no reaction: an alert about an outside host is still evidence);
   * anything else is VNP_ERR_UNKNOWN_ENDPOINT, as in check, and nothing is stored.
   *
   * @example
   *   const { event, revision } = await reactor.handleEvent({ type: 'ids.alert', target: 'web-1' }, 'operator:ab12');
   */
  handleEvent(input: EventInput, actor: string): Promise<EventOutcome> {
    if (this.resolveTarget(input.target) === undefined && parseIp(input.target) === undefined) {
      return Promise.reject(
        new VnpError(
          'VNP_ERR_UNKNOWN_ENDPOINT',
          `target: "${input.target}" is neither an interface record nor an IP address`,
          { field: 'target', expected: 'a record name or an IP address' },
        ),
      );
    }
    return this.queue.run(async () => {
      const out = await this.handleLocked(input, actor);
      const now = this.host.now();
      for (const x of out.expiries) this.scheduleBy(Date.parse(x.expiresAt) - now);
      return out;
    });
  }

  private reactions(engine: Engine): Reaction[] {
    return engine.list('Reaction') as unknown as Reaction[];
  }

  /**
   * Plan under the manager's lock against the current model, and commit the event,
   * its expiries and the tag change as ONE store transaction (Store.commitEvent).
   * The store extends a pending expiry of (record, reaction) itself, keeping its
   * undo, so the plan needs no read of the pending expiries.
   */
  private async handleLocked(input: EventInput, actor: string): Promise<EventOutcome> {
    const now = this.host.now();
    const types = [input.type, ...(input.aliases ?? [])];
    const out = await this.host.writeEvent((engine) => {
      const record = this.resolveTarget(input.target);
      const doc = record ? (engine.get('Interface', record) as Interface | undefined) : undefined;
      const plan =
        record && doc
          ? planReactions({
              type: types,
              record,
              tags: doc.tags,
              reactions: this.reactions(engine),
              now,
            })
          : undefined;
      return {
        event: {
          at: new Date(now).toISOString(),
          type: input.type,
          target: input.target,
          ...(record ? { record } : {}),
          ...(input.severity !== undefined ? { severity: input.severity } : {}),
          ...(input.details !== undefined ? { details: input.details } : {}),
          actor,
          reactions: plan?.fired ?? [],
        },
        expiries: plan?.expiries ?? [],
        changes:
          doc && plan?.changed ? [{ op: 'put' as const, doc: withTags(doc, plan.tags) }] : [],
        actor: `reaction:${plan?.fired.join(',') ?? ''}`,
        action: (id: number) => `event ${input.type} id=${id} record=${record ?? ''}`,
      };
    });
    return {
      event: out.event,
      expiries: out.expiries,
      ...(out.record ? { revision: out.record.revision } : {}),
    };
  }

  /**
   * Undo every expiry due at `host.now()`; returns how many were handled.
   * Tests with an injected clock call this after moving the clock.
   *
   * @example await reactor.runDue() // 1
   */
  runDue(): Promise<number> {
    return this.queue.run(async () => {
      const now = this.host.now();
      const all = await this.host.store.listExpiries();
      const due = all.filter((x) => Date.parse(x.expiresAt) <= now);
      for (const x of due) await this.expire(x);
      const next = all.find((x) => Date.parse(x.expiresAt) > now);
      this.schedule(next ? Date.parse(next.expiresAt) - now : MAX_SLEEP_MS);
      return due.length;
    });
  }

  private async expire(x: ReactionExpiry): Promise<void> {
    try {
      await this.host.write(
        { actor: `reaction:${x.reaction}`, action: `expire ${x.reaction} record=${x.record}` },
        (engine) => {
          const doc = engine.get('Interface', x.record) as Interface | undefined;
          if (!doc) return { changes: [], result: undefined, commit: false };
          const tags = undoExpiry(doc.tags, x);
          if (canonicalTagsJson(tags) === canonicalTagsJson(doc.tags)) {
            return { changes: [], result: undefined, commit: false };
          }
          return { changes: [{ op: 'put' as const, doc: withTags(doc, tags) }], result: undefined };
        },
      );
    } catch (err) {
      // An undo the model refuses (e.g. the record now breaks a rule) must not
      // block the others; the row is dropped so it is not retried forever.
      if (!(err instanceof VnpError)) throw err;
    }
    await this.host.store.deleteExpiry(x.record, x.reaction);
  }

  /** Wake up no later than `delayMs` from now (keeps an earlier timer). */
  private scheduleBy(delayMs: number): void {
    if (this.timer && this.timerAt <= this.host.now() + delayMs) return;
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(delayMs, 0), MAX_SLEEP_MS);
    this.timerAt = this.host.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runDue().catch(() => this.schedule(1000));
    }, delay);
    this.timer.unref?.();
  }
}
