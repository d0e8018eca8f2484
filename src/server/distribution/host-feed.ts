/**
 * The manager's side of the agent protocol (docs/protocol.md): turns every applied
 * change record into one shared "step" and builds, for any host, a snapshot or the
 * delta between two positions of a bounded ring of steps.
 *
 * Invariants:
 * - the feed mirrors the engine at `manager.revision` (it is updated synchronously by
 *   the manager's record listener); steps are contiguous: `steps[i+1].from === steps[i].to`;
 * - the `ipcache` and `records` parts of a step are the same for every host and are
 *   serialised once; only the sides and defaults of the host's local identities are
 *   built per host (from a per-identity cache of their serialised form);
 * - memory is bounded: at most `ringSize` steps; a stream keeps only its position, so
 *   a slow reader's pending changes coalesce when the next message is built (or become a snapshot);
 * - an underlay change (a PEP reported a new address) is a step with `from === to`:
 *   re-applying its upserts is harmless, so a resume replays it.
 *
 * Data flows one way: each step is built from the engine's `HostViewDelta` alone (the
 * changed records, the identities whose state may have changed, the hosts concerned);
 * only a snapshot reads a whole host state from the source.
 */
import type { HostViewDelta } from '../../engine/index.js';
import {
  canonicalHostState,
  composeHostDeltas,
  type DeltaRecord,
  type HostDelta,
} from '../../model/host-delta.js';
import type { HostState, IpcacheEntry, SteerClass } from '../../model/host-state.js';
import type { ChangeRecord } from '../../store/index.js';
import {
  FeedIdentities,
  mergeIdentityChanges,
  type IdentityChange,
  type IdentityFragments,
} from './feed-identities.js';
import { FeedWorld, type HostIdChanges } from './feed-world.js';

/** One change as every stream sees it. */
export interface FeedStep {
  seq: number;
  from: number;
  to: number;
  /** Commit time (ms since the epoch) for the change → ACK histogram; NaN for underlay steps. */
  at: number;
  ipcache?: { upsert: IpcacheEntry[]; remove: string[] };
  records?: { upsert: DeltaRecord[]; remove: string[] };
  /** The steer-class table, when it changed (shared by every host). */
  steering?: SteerClass[];
  /** `,"ipcache":…,"records":…` — the shared bytes of the step's message. */
  sharedJson: string;
  /** Identities whose sides or defaults changed in this step, and how. */
  changes: Map<number, IdentityChange>;
  /** Per host: local identities gained and lost in this step. */
  hostIds: HostIdChanges;
  /** Hosts the step concerns (engine.hostsOf, plus hosts whose local set changed). */
  hosts: Set<string> | 'all';
  /** Per identity, the patched fragments of this step (built once, shared by the hosts). */
  patchedCache?: Map<number, IdentityFragments | undefined>;
  /**
   * Per host, the identities of `changes` local on it, ascending (built once, on the
   * first host's message, from each identity's hosts: O(changes × their hosts), not
   * O(changes × hosts)).
   */
  changedOn?: Map<string, number[]>;
}

/** What a stream at a position should send next. */
export type NextMessage =
  | { kind: 'none' }
  | { kind: 'snapshot'; state: HostState; seq: number }
  | { kind: 'delta'; /** One message, no line end. */ json: string; to: number; seq: number };

export interface HostFeedOptions {
  /** Steps kept for resume and slow readers (default 1024). */
  ringSize?: number;
  /** A coalesced delta with more entries than this is sent as a snapshot (default 5000). */
  maxDeltaEntries?: number;
  /** Underlay address of a host, if known (fills remote records). */
  underlayOf?: (host: string) => string | undefined;
  /**
   * While the source holds state not yet durable (a group commit in flight): resolves
   * when it is settled (Manager.settled). Snapshots are taken only when it is undefined.
   */
  settled?: () => Promise<void> | undefined;
}

/** Where snapshots come from (the manager's current engine). */
export interface HostStateSource {
  hostState(host: string, revision: number): HostState;
}

/**
 * Shared, incremental host-state distribution for all streams of one manager.
 *
 * @example
 *   const feed = new HostFeed(() => manager.engine, { underlayOf: (h) => peps.underlayOf(h) });
 *   feed.reset(manager.revision, manager.engine.hostDelta());
 *   manager.onRecord((record, delta) => feed.onRecord(record, manager.engine.hostDelta(delta)));
 */
export class HostFeed {
  /** Revision the feed reflects. */
  revision = 0;
  private seq = 0;
  private readonly steps: FeedStep[] = [];
  private readonly world: FeedWorld;
  private readonly ids = new FeedIdentities();
  private steeringJson = '[]';
  private readonly listeners = new Set<(step: FeedStep) => void>();
  private readonly ringSize: number;
  private readonly maxDeltaEntries: number;
  private readonly underlayOf: (host: string) => string | undefined;
  private readonly busy: () => Promise<void> | undefined;

  constructor(
    private readonly source: () => HostStateSource,
    opts: HostFeedOptions = {},
  ) {
    this.ringSize = opts.ringSize ?? 1024;
    this.maxDeltaEntries = opts.maxDeltaEntries ?? 5000;
    this.underlayOf = opts.underlayOf ?? (() => undefined);
    this.busy = opts.settled ?? (() => undefined);
    this.world = new FeedWorld(this.underlayOf);
  }

  /**
   * Undefined when a snapshot may be taken now; else resolves when it may (the
   * source's model holds a group commit not yet durable: docs/adr/0055).
   */
  settled(): Promise<void> | undefined {
    return this.busy();
  }

  /** Rebuild everything from a full view at `revision` (start, reload); history is dropped. */
  reset(revision: number, view: HostViewDelta): void {
    this.steps.length = 0;
    this.world.clear();
    this.ids.clear();
    this.revision = revision;
    this.steeringJson = JSON.stringify(view.steering ?? []);
    this.world.read(view);
    this.world.takeHostIds();
    this.refreshIds(view);
  }

  /** Called for every applied change record, with what it changed in the host states. */
  onRecord(record: ChangeRecord, view: HostViewDelta): void {
    const from = this.revision;
    const worldChange = this.world.read(view);
    const hostIds = this.world.takeHostIds();
    const changes = this.refreshIds(view);
    this.revision = record.revision;
    let steeringChanged = view.steering !== undefined;
    if (view.steering) {
      const json = JSON.stringify(view.steering);
      steeringChanged = json !== this.steeringJson;
      this.steeringJson = json;
    }
    let hosts: Set<string> | 'all' = 'all';
    if (view.hosts !== 'all' && !worldChange.ipcache && !worldChange.records && !steeringChanged) {
      hosts = new Set(view.hosts);
      for (const h of hostIds.keys()) hosts.add(h);
    }
    this.push({
      from,
      to: record.revision,
      at: Date.parse(record.at),
      ...worldChange,
      ...(steeringChanged ? { steering: view.steering } : {}),
      changes,
      hostIds,
      hosts,
    });
  }

  /** Hosts' underlay addresses changed: every other host's copy of their records changes (one step). */
  onUnderlayChange(hosts: Iterable<string>): void {
    const upsert = this.world.recordsOf(new Set(hosts));
    if (upsert.length === 0) return;
    this.push({
      from: this.revision,
      to: this.revision,
      at: Number.NaN,
      records: { upsert, remove: [] },
      changes: new Map(),
      hostIds: new Map(),
      hosts: 'all',
    });
  }

  /** Subscribe to new steps (streams mark themselves dirty). */
  onStep(listener: (step: FeedStep) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sequence number of the newest step (a new stream starts here after a snapshot). */
  get head(): number {
    return this.seq;
  }

  /** The step that produced `revision`, while the ring holds it. */
  stepOf(revision: number): FeedStep | undefined {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i]!;
      if (s.to === revision && s.from !== s.to) return s;
      if (s.to < revision) return undefined;
    }
    return undefined;
  }

  /** Hosts concerned by any step in (fromRevision, toRevision]; 'all' when unknown. */
  hostsBetween(fromRevision: number, toRevision: number): Set<string> | 'all' {
    const out = new Set<string>();
    let covered = fromRevision;
    for (const s of this.steps) {
      if (s.to <= fromRevision || s.from >= toRevision || s.from === s.to) continue;
      if (s.from > covered) return 'all';
      if (s.hosts === 'all') return 'all';
      for (const h of s.hosts) out.add(h);
      covered = s.to;
    }
    return covered >= toRevision ? out : 'all';
  }

  /**
   * Where a stream resuming from `since` stands: the sequence number after which its
   * steps start, 'snapshot' when the ring lost them, 'future' when this manager has
   * not reached `since` yet (the stream waits for it).
   */
  positionFor(since: number): number | 'snapshot' | 'future' {
    if (since > this.revision) return 'future';
    // Underlay steps at `since` are replayed (idempotent upserts).
    const first = this.steps.findIndex((s) => s.from >= since);
    if (first < 0) return since === this.revision ? this.seq : 'snapshot';
    const step = this.steps[first]!;
    if (step.from !== since) return 'snapshot';
    return step.seq - 1;
  }

  /** Sequence number after which the steps from `since` start, once this manager has them. */
  futurePosition(since: number): number | undefined {
    const step = this.steps.find((s) => s.from >= since);
    if (step && step.from === since) return step.seq - 1;
    return since === this.revision ? this.seq : undefined;
  }

  /** The full canonical state of a host now. */
  snapshot(host: string): HostState {
    const state = this.source().hostState(host, this.revision);
    for (const r of state.remotes) {
      const u = this.underlayOf(r.host);
      if (u !== undefined) r.underlay = u;
    }
    return canonicalHostState(state);
  }

  /**
   * What a stream of `host` positioned after step `seq` must receive to be current:
   * nothing, one delta (shared bytes plus the host's sides), or a snapshot when the
   * ring no longer holds its steps or the coalesced delta grew too large. With
   * `sidePatches` (the agent folds them), sides the host keeps are patched.
   */
  nextMessage(host: string, seq: number, opts: { sidePatches?: boolean } = {}): NextMessage {
    if (seq >= this.seq) return { kind: 'none' };
    const firstIdx = this.steps.length - (this.seq - seq);
    if (firstIdx < 0) return { kind: 'snapshot', state: this.snapshot(host), seq: this.seq };
    const steps = this.steps.slice(firstIdx);
    const part = this.hostPart(host, steps, opts.sidePatches === true);
    const last = steps[steps.length - 1]!;
    const hostJson =
      (part.sides.length ? `,"sides":[${part.sides.join(',')}]` : '') +
      (part.sidesRemoved.length ? `,"sidesRemoved":${JSON.stringify(part.sidesRemoved)}` : '') +
      (part.patches.length ? `,"sidePatches":[${part.patches.join(',')}]` : '') +
      (part.defaults.length ? `,"defaults":[${part.defaults.join(',')}]` : '') +
      (part.defaultsRemoved.length
        ? `,"defaultsRemoved":${JSON.stringify(part.defaultsRemoved)}`
        : '');
    if (steps.length === 1) {
      const s = steps[0]!;
      return {
        kind: 'delta',
        json: `{"type":"delta","from":${s.from},"to":${s.to}${s.sharedJson}${hostJson}}`,
        to: s.to,
        seq: this.seq,
      };
    }
    const shared = composeShared(steps);
    const size =
      (shared.ipcache?.upsert.length ?? 0) +
      (shared.ipcache?.remove.length ?? 0) +
      (shared.records?.upsert.length ?? 0) +
      (shared.records?.remove.length ?? 0) +
      part.sides.length +
      part.patches.length +
      part.defaults.length;
    if (size > this.maxDeltaEntries)
      return { kind: 'snapshot', state: this.snapshot(host), seq: this.seq };
    return {
      kind: 'delta',
      json: `{"type":"delta","from":${shared.from},"to":${last.to}${sharedJsonOf(shared.ipcache, shared.records, shared.steering)}${hostJson}}`,
      to: last.to,
      seq: this.seq,
    };
  }

  // ---------------------------------------------------------------- internals

  private push(step: Omit<FeedStep, 'seq' | 'sharedJson'>): void {
    const full: FeedStep = {
      ...step,
      seq: ++this.seq,
      sharedJson: sharedJsonOf(step.ipcache, step.records, step.steering),
    };
    // Only the newest step's message is built per step (stepPart): the previous step's
    // shared fragments are dead, and the ring would keep 1024 steps of them.
    const prev = this.steps[this.steps.length - 1];
    if (prev) {
      delete prev.patchedCache;
      delete prev.changedOn;
    }
    this.steps.push(full);
    if (this.steps.length > this.ringSize) this.steps.shift();
    for (const l of this.listeners) l(full);
  }

  /** Take the view's identities; forget those local nowhere. What changed, by identity. */
  private refreshIds(view: HostViewDelta): Map<number, IdentityChange> {
    for (const id of this.world.takeGone()) if (!this.world.isLocal(id)) this.ids.forget(id);
    return this.ids.refresh(view.identities, (id) => this.world.isLocal(id));
  }

  /**
   * The host's sides/defaults changes over `steps` (its local set now vs before them):
   * whole for identities it gained (or every changed one without `patches`), patched
   * for those it kept.
   */
  private hostPart(host: string, steps: readonly FeedStep[], patches: boolean): HostPart {
    if (steps.length === 1) return this.stepPart(host, steps[0]!, patches);
    const now = this.world.localIds(host);
    const then = new Set(now);
    const changed = new Map<number, IdentityChange[]>();
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      const h = s.hostIds.get(host);
      if (h) {
        for (const id of h.added) then.delete(id);
        for (const id of h.removed) then.add(id);
      }
      for (const [id, c] of s.changes) {
        const list = changed.get(id);
        if (list) list.unshift(c);
        else changed.set(id, [c]);
      }
    }
    const part = emptyHostPart();
    for (const id of [...now].sort((a, b) => a - b)) {
      const kept = then.has(id);
      const change = changed.get(id);
      if (kept && !change) continue;
      const f =
        kept && patches
          ? steps.length === 1
            ? this.stepPatched(steps[0]!, id, change![0]!)
            : this.ids.patched(id, mergeIdentityChanges(change!))
          : this.ids.whole(id);
      if (!f) continue;
      part.sides.push(...f.sides);
      part.patches.push(...f.patches);
      if (f.defaults !== undefined) part.defaults.push(f.defaults);
    }
    for (const identity of [...then].filter((id) => !now.has(id)).sort((a, b) => a - b)) {
      part.sidesRemoved.push({ identity, direction: 'egress' }, { identity, direction: 'ingress' });
      part.defaultsRemoved.push(identity);
    }
    return part;
  }

  /**
   * {@link hostPart} of the newest step alone, the common case: O(identities the step
   * changed) per host, with no copy of the host's local set — a write that changes the
   * sides of many identities is fanned out to every host, so a per-host cost in the
   * host's local identities would be paid hosts × identities times.
   */
  private stepPart(host: string, step: FeedStep, patches: boolean): HostPart {
    const part = emptyHostPart();
    const moved = step.hostIds.get(host);
    const added = moved ? [...moved.added].sort((a, b) => a - b) : [];
    const changed = (step.changedOn ??= this.changedByHost(step)).get(host) ?? [];
    // The union of the identities the host gained (whole) and the changed ones it kept, ascending.
    let a = 0;
    for (let c = 0; a < added.length || c < changed.length;) {
      let id: number;
      let f: IdentityFragments | undefined;
      if (c >= changed.length || (a < added.length && added[a]! <= changed[c]!)) {
        id = added[a++]!;
        if (changed[c] === id) c++;
        f = this.ids.whole(id);
      } else {
        id = changed[c++]!;
        f = patches ? this.stepPatched(step, id, step.changes.get(id)!) : this.ids.whole(id);
      }
      if (!f) continue;
      part.sides.push(...f.sides);
      part.patches.push(...f.patches);
      if (f.defaults !== undefined) part.defaults.push(f.defaults);
    }
    for (const identity of moved ? [...moved.removed].sort((x, y) => x - y) : []) {
      part.sidesRemoved.push({ identity, direction: 'egress' }, { identity, direction: 'ingress' });
      part.defaultsRemoved.push(identity);
    }
    return part;
  }

  /** {@link FeedStep.changedOn} of the newest step (the world is the step's). */
  private changedByHost(step: FeedStep): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const id of [...step.changes.keys()].sort((a, b) => a - b))
      for (const h of this.world.hostsOf(id) ?? []) {
        const list = out.get(h);
        if (list) list.push(id);
        else out.set(h, [id]);
      }
    return out;
  }

  /**
   * One step's patched fragments of an identity, built once for every host that kept
   * it (a single-step message is only built while the step is the newest, so the
   * identity's current state is the step's).
   */
  private stepPatched(
    step: FeedStep,
    id: number,
    change: IdentityChange,
  ): IdentityFragments | undefined {
    step.patchedCache ??= new Map();
    if (!step.patchedCache.has(id)) step.patchedCache.set(id, this.ids.patched(id, change));
    return step.patchedCache.get(id);
  }
}

/** A host's share of a message, as JSON fragments. */
interface HostPart {
  sides: string[];
  sidesRemoved: { identity: number; direction: 'egress' | 'ingress' }[];
  patches: string[];
  defaults: string[];
  defaultsRemoved: number[];
}

/** The shared parts of several steps as one delta. */
function composeShared(steps: readonly FeedStep[]): HostDelta {
  let shared: HostDelta = { from: steps[0]!.from, to: steps[0]!.from };
  for (const s of steps) {
    shared = composeHostDeltas(shared, {
      from: s.from,
      to: s.to,
      ...(s.ipcache ? { ipcache: s.ipcache } : {}),
      ...(s.records ? { records: s.records } : {}),
      ...(s.steering ? { steering: s.steering } : {}),
    });
  }
  return shared;
}

function sharedJsonOf(
  ipcache: HostDelta['ipcache'],
  records: HostDelta['records'],
  steering?: HostDelta['steering'],
): string {
  return (
    (ipcache ? `,"ipcache":${JSON.stringify(ipcache)}` : '') +
    (records ? `,"records":${JSON.stringify(records)}` : '') +
    (steering ? `,"steering":${JSON.stringify(steering)}` : '')
  );
}

/** A host part with nothing in it yet. */
function emptyHostPart(): HostPart {
  return { sides: [], sidesRemoved: [], patches: [], defaults: [], defaultsRemoved: [] };
}
