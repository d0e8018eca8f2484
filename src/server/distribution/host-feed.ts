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
import type { HostViewDelta, IdentityHostState } from '../../engine/index.js';
import {
  canonicalHostState,
  composeHostDeltas,
  type DeltaRecord,
  type HostDelta,
} from '../../model/host-delta.js';
import type {
  DefaultState,
  HostState,
  IpcacheEntry,
  SideState,
  SteerClass,
} from '../../model/host-state.js';
import type { ChangeRecord } from '../../store/index.js';
import { sideJson } from './side-json.js';

/** Identity-local state cached once for all hosts. */
interface IdentityState {
  sides: SideState[];
  defaults: DefaultState;
  /** JSON of `sides` items and `defaults`, comma-free fragments. */
  sidesJson: string[];
  defaultsJson: string;
}

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
  /** Identities whose sides or defaults changed in this step. */
  changedIds: Set<number>;
  /** Per host: local identities gained and lost in this step. */
  hostIds: Map<string, { added: number[]; removed: number[] }>;
  /** Hosts the step concerns (engine.hostsOf, plus hosts whose local set changed). */
  hosts: Set<string> | 'all';
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
  private records = new Map<string, { rec: DeltaRecord; json: string }>();
  private ipcache = new Map<string, number>();
  /** Every record's addresses as last read (attached or not): its ipcache entries. */
  private readonly ipsOf = new Map<string, string[]>();
  private steeringJson = '[]';
  private readonly hostLocal = new Map<string, Map<number, number>>();
  /** Per identity: on how many hosts it is local. */
  private readonly localHosts = new Map<number, number>();
  /** Net changes of hosts' local identity sets since the last step (true: gained). */
  private hostIdChanges = new Map<string, Map<number, boolean>>();
  /** Identities that stopped being local somewhere since the last refresh. */
  private readonly maybeGone = new Set<number>();
  private readonly ids = new Map<number, IdentityState>();
  private readonly listeners = new Set<(step: FeedStep) => void>();
  private readonly ringSize: number;
  private readonly maxDeltaEntries: number;
  private readonly underlayOf: (host: string) => string | undefined;

  constructor(
    private readonly source: () => HostStateSource,
    opts: HostFeedOptions = {},
  ) {
    this.ringSize = opts.ringSize ?? 1024;
    this.maxDeltaEntries = opts.maxDeltaEntries ?? 5000;
    this.underlayOf = opts.underlayOf ?? (() => undefined);
  }

  /** Rebuild everything from a full view at `revision` (start, reload); history is dropped. */
  reset(revision: number, view: HostViewDelta): void {
    this.steps.length = 0;
    this.records.clear();
    this.ipcache.clear();
    this.ipsOf.clear();
    this.hostLocal.clear();
    this.localHosts.clear();
    this.ids.clear();
    this.revision = revision;
    this.steeringJson = JSON.stringify(view.steering ?? []);
    this.readWorld(view);
    this.hostIdChanges.clear();
    this.refreshIds(view.identities);
  }

  /** Called for every applied change record, with what it changed in the host states. */
  onRecord(record: ChangeRecord, view: HostViewDelta): void {
    const from = this.revision;
    const worldChange = this.readWorld(view);
    const hostIds = this.takeHostIds();
    const changedIds = this.refreshIds(view.identities);
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
      ...(worldChange.ipcache ? { ipcache: worldChange.ipcache } : {}),
      ...(worldChange.records ? { records: worldChange.records } : {}),
      ...(steeringChanged ? { steering: view.steering } : {}),
      changedIds,
      hostIds,
      hosts,
    });
  }

  /** Hosts' underlay addresses changed: every other host's copy of their records changes (one step). */
  onUnderlayChange(hosts: Iterable<string>): void {
    const changed = new Set(hosts);
    const upsert = [...this.records.values()]
      .filter((r) => changed.has(r.rec.host))
      .map((r) => this.withUnderlay(r.rec));
    if (upsert.length === 0) return;
    this.push({
      from: this.revision,
      to: this.revision,
      at: Number.NaN,
      records: { upsert, remove: [] },
      changedIds: new Set(),
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
   * ring no longer holds its steps or the coalesced delta grew too large.
   */
  nextMessage(host: string, seq: number): NextMessage {
    if (seq >= this.seq) return { kind: 'none' };
    const firstIdx = this.steps.length - (this.seq - seq);
    if (firstIdx < 0) return { kind: 'snapshot', state: this.snapshot(host), seq: this.seq };
    const steps = this.steps.slice(firstIdx);
    const { sides, sidesRemoved, defaults, defaultsRemoved } = this.hostPart(host, steps);
    const last = steps[steps.length - 1]!;
    const hostJson =
      (sides.length ? `,"sides":[${sides.join(',')}]` : '') +
      (sidesRemoved.length ? `,"sidesRemoved":${JSON.stringify(sidesRemoved)}` : '') +
      (defaults.length ? `,"defaults":[${defaults.join(',')}]` : '') +
      (defaultsRemoved.length ? `,"defaultsRemoved":${JSON.stringify(defaultsRemoved)}` : '');
    if (steps.length === 1) {
      const s = steps[0]!;
      return {
        kind: 'delta',
        json: `{"type":"delta","from":${s.from},"to":${s.to}${s.sharedJson}${hostJson}}`,
        to: s.to,
        seq: this.seq,
      };
    }
    let shared: HostDelta = { from: steps[0]!.from, to: steps[0]!.to };
    if (steps[0]!.ipcache) shared.ipcache = steps[0]!.ipcache;
    if (steps[0]!.records) shared.records = steps[0]!.records;
    if (steps[0]!.steering) shared.steering = steps[0]!.steering;
    for (const s of steps.slice(1)) {
      shared = composeHostDeltas(shared, {
        from: s.from,
        to: s.to,
        ...(s.ipcache ? { ipcache: s.ipcache } : {}),
        ...(s.records ? { records: s.records } : {}),
        ...(s.steering ? { steering: s.steering } : {}),
      });
    }
    const size =
      (shared.ipcache?.upsert.length ?? 0) +
      (shared.ipcache?.remove.length ?? 0) +
      (shared.records?.upsert.length ?? 0) +
      (shared.records?.remove.length ?? 0) +
      sides.length +
      defaults.length;
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
    this.steps.push(full);
    if (this.steps.length > this.ringSize) this.steps.shift();
    for (const l of this.listeners) l(full);
  }

  /** The host's sides/defaults changes over `steps` (its local set now vs before them). */
  private hostPart(
    host: string,
    steps: readonly FeedStep[],
  ): {
    sides: string[];
    sidesRemoved: { identity: number; direction: 'egress' | 'ingress' }[];
    defaults: string[];
    defaultsRemoved: number[];
  } {
    const now = new Set(this.hostLocal.get(host)?.keys() ?? []);
    const then = new Set(now);
    const changed = new Set<number>();
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      const h = s.hostIds.get(host);
      if (h) {
        for (const id of h.added) then.delete(id);
        for (const id of h.removed) then.add(id);
      }
      for (const id of s.changedIds) changed.add(id);
    }
    const sides: string[] = [];
    const defaults: string[] = [];
    for (const id of [...now].sort((a, b) => a - b)) {
      if (then.has(id) && !changed.has(id)) continue;
      const st = this.ids.get(id);
      if (!st) continue;
      sides.push(...st.sidesJson);
      defaults.push(st.defaultsJson);
    }
    const gone = [...then].filter((id) => !now.has(id)).sort((a, b) => a - b);
    return {
      sides,
      sidesRemoved: gone.flatMap((identity) => [
        { identity, direction: 'egress' as const },
        { identity, direction: 'ingress' as const },
      ]),
      defaults,
      defaultsRemoved: gone,
    };
  }

  private withUnderlay(r: DeltaRecord): DeltaRecord {
    const u = this.underlayOf(r.host);
    return u === undefined ? r : { ...r, underlay: u };
  }

  /**
   * Take the view's records and ipcache entries and return what changed for the
   * streams: O(listed records). A full view lists every record: those the feed holds
   * that it does not list are gone.
   */
  private readWorld(view: HostViewDelta): {
    ipcache?: { upsert: IpcacheEntry[]; remove: string[] };
    records?: { upsert: DeltaRecord[]; remove: string[] };
  } {
    const listed = new Map(view.records.map((r) => [r.name, r]));
    const names = new Set(listed.keys());
    if (view.full) {
      for (const n of this.ipsOf.keys()) names.add(n);
      for (const n of this.records.keys()) names.add(n);
    }
    const upsert: DeltaRecord[] = [];
    const removed: string[] = [];
    const ipOld = new Set<string>();
    const ipNew = new Map<string, number>();
    for (const name of [...names].sort()) {
      const old = this.records.get(name);
      const rec = listed.get(name)?.attached;
      if (rec === undefined) {
        if (old) {
          removed.push(name);
          this.unindex(old.rec);
          this.records.delete(name);
        }
      } else {
        const json = JSON.stringify(rec);
        if (old?.json !== json) {
          upsert.push(this.withUnderlay(rec));
          if (old) this.unindex(old.rec);
          this.index(rec);
        }
        this.records.set(name, { rec, json });
      }
      for (const ip of this.ipsOf.get(name) ?? []) ipOld.add(ip);
      const entries = listed.get(name)?.ipcache ?? [];
      for (const e of entries) ipNew.set(e.ip, e.identity);
      if (entries.length)
        this.ipsOf.set(
          name,
          entries.map((e) => e.ip),
        );
      else this.ipsOf.delete(name);
    }
    // An address another changed record took over stays: addresses are unique, so
    // one held by a record outside `names` cannot have been held by one inside.
    const ipUpsert: IpcacheEntry[] = [];
    for (const [ip, identity] of ipNew) {
      ipOld.delete(ip);
      if (this.ipcache.get(ip) === identity) continue;
      ipUpsert.push({ ip, identity });
      this.ipcache.set(ip, identity);
    }
    const ipRemove = [...ipOld].filter((ip) => this.ipcache.delete(ip)).sort();
    return {
      ...(ipUpsert.length || ipRemove.length
        ? { ipcache: { upsert: ipUpsert.sort((a, b) => (a.ip < b.ip ? -1 : 1)), remove: ipRemove } }
        : {}),
      ...(upsert.length || removed.length ? { records: { upsert, remove: removed } } : {}),
    };
  }

  private index(r: DeltaRecord): void {
    let m = this.hostLocal.get(r.host);
    if (!m) this.hostLocal.set(r.host, (m = new Map()));
    const n = m.get(r.identity) ?? 0;
    m.set(r.identity, n + 1);
    if (n > 0) return;
    this.noteHostId(r.host, r.identity, true);
    this.localHosts.set(r.identity, (this.localHosts.get(r.identity) ?? 0) + 1);
  }

  private unindex(r: DeltaRecord): void {
    const m = this.hostLocal.get(r.host);
    if (!m) return;
    const n = (m.get(r.identity) ?? 0) - 1;
    if (n > 0) {
      m.set(r.identity, n);
      return;
    }
    m.delete(r.identity);
    if (m.size === 0) this.hostLocal.delete(r.host);
    this.noteHostId(r.host, r.identity, false);
    const hosts = (this.localHosts.get(r.identity) ?? 0) - 1;
    if (hosts > 0) this.localHosts.set(r.identity, hosts);
    else {
      this.localHosts.delete(r.identity);
      this.maybeGone.add(r.identity);
    }
  }

  /** A host gained or lost a local identity; a gain and a loss in one step cancel. */
  private noteHostId(host: string, id: number, gained: boolean): void {
    let m = this.hostIdChanges.get(host);
    if (!m) this.hostIdChanges.set(host, (m = new Map()));
    if (m.has(id) && m.get(id) !== gained) m.delete(id);
    else m.set(id, gained);
  }

  /** The net local identity changes per host since the last call. */
  private takeHostIds(): Map<string, { added: number[]; removed: number[] }> {
    const out = new Map<string, { added: number[]; removed: number[] }>();
    for (const [h, m] of this.hostIdChanges) {
      const added: number[] = [];
      const removed: number[] = [];
      for (const [id, gained] of m) (gained ? added : removed).push(id);
      if (added.length || removed.length) out.set(h, { added, removed });
    }
    this.hostIdChanges = new Map();
    return out;
  }

  /**
   * Cache the listed identities' sides/defaults (those local somewhere); forget
   * identities local nowhere. Returns those whose serialised form changed.
   */
  private refreshIds(listed: readonly IdentityHostState[]): Set<number> {
    for (const id of this.maybeGone) if (!this.localHosts.has(id)) this.ids.delete(id);
    this.maybeGone.clear();
    const changed = new Set<number>();
    for (const { identity: id, sides, defaults } of listed) {
      if (!this.localHosts.has(id)) continue;
      const next: IdentityState = {
        sides,
        defaults,
        sidesJson: sides.map(sideJson),
        defaultsJson: JSON.stringify(defaults),
      };
      const prev = this.ids.get(id);
      if (
        !prev ||
        prev.defaultsJson !== next.defaultsJson ||
        !sameStrings(prev.sidesJson, next.sidesJson)
      )
        changed.add(id);
      this.ids.set(id, next);
    }
    return changed;
  }
}

/** Element-wise equality: no joined copy of every side (they can be large). */
function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
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
