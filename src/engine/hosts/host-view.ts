/**
 * The host view facet: what the distribution feed reads — a host's whole state (for
 * snapshots), the hosts a delta concerns, and per-record / per-identity pieces of host
 * state (for deltas), all from the shared host index (./host-state-builder.ts).
 */
import type { DeltaRecord } from '../../model/host-delta.js';
import type {
  DefaultState,
  HostState,
  IpcacheEntry,
  SideState,
  SteerClass,
} from '../../model/host-state.js';
import { steerTable } from '../compile/steering-resolution.js';
import type { EngineState } from '../state/engine-state.js';
import type { EngineDelta } from '../types.js';
import type { Sides } from '../verdict/sides.js';
import {
  buildHostIndex,
  buildHostState,
  identityDefaults,
  identitySides,
  type HostIndex,
  type HostStateContext,
} from './host-state-builder.js';

/** One record as every host state shows it. */
export interface HostViewRecord {
  name: string;
  /** Its wire form in host deltas; absent: no such record, or not attached to a host. */
  attached?: DeltaRecord;
  /** Its ipcache entries (none: no such record). */
  ipcache: readonly IpcacheEntry[];
}

/** The sides and defaults of an identity, as every host state holding it lists them. */
export interface IdentityHostState {
  identity: number;
  sides: SideState[];
  defaults: DefaultState;
}

/**
 * What one batch changed in the host states, read from the engine once and handed to
 * the distribution feed, which needs nothing else from the engine to build its
 * per-host deltas (data flows one way; only snapshots read a whole host state).
 */
export interface HostViewDelta {
  /** Every record and every local identity is listed (a reset or a reload). */
  full: boolean;
  /** The records the batch touched (full: every record). */
  records: HostViewRecord[];
  /**
   * The identities, local on some host, whose sides or defaults the batch may have
   * changed (full: every local identity): a superset, the feed compares.
   */
  identities: IdentityHostState[];
  /** The steer-class table, when it may have changed. */
  steering?: SteerClass[];
  /** The hosts the batch concerns ('all': every host, as when addresses moved). */
  hosts: Set<string> | 'all';
}

export class HostView {
  private readonly ctx: HostStateContext;
  /** Shared part of every host's state; built on first use, then updated per change. */
  private hostIndex: HostIndex | undefined;
  /**
   * Local identities whose last listed state had CIDR entries (verdicts or routes):
   * those are split at record addresses, so an address move may change them.
   */
  private readonly cidrIds = new Set<number>();
  /**
   * The defaults last listed per local identity, dropped by every batch that names the
   * identity's default row (delta.defaults: the engine names exactly those), so an
   * identity listed only for its sides reuses them instead of recomputing its row.
   */
  private readonly listedDefaults = new Map<number, DefaultState>();

  constructor(state: EngineState, sides: Sides) {
    this.ctx = { state, sides };
  }

  /** Keeps the host index current after a batch (a quiet one: rebuilt on first use). */
  afterBatch(delta: EngineDelta, quiet: boolean): void {
    if (quiet) this.hostIndex = undefined;
    else this.hostIndex?.update(delta.records, this.ctx);
    // Every batch, listed or not: a cached default row never outlives its change.
    if (quiet) this.listedDefaults.clear();
    else {
      for (const id of delta.defaults) this.listedDefaults.delete(id);
      for (const { id } of delta.identitiesAdded) this.listedDefaults.delete(id);
      for (const id of delta.identitiesReleased) this.listedDefaults.delete(id);
    }
  }

  /** Everything one host's PEP needs (design.md §3–§4). O(records): for snapshots. */
  hostState(host: string, revision: number): HostState {
    return buildHostState(host, revision, this.index(), this.ctx);
  }

  /**
   * An attached record's wire form as a host delta lists it: its local form plus the
   * host that runs it (undefined: no such record, or not attached to an instance on a
   * host). O(1), read from the host index: what a delta feed reads per changed record.
   */
  attachedRecord(name: string): DeltaRecord | undefined {
    const a = this.index().record(name)?.attached;
    if (!a) return undefined;
    const { cidr, instance, netns } = a.local;
    return { ...a.remote, cidr, instance, ...(netns !== undefined ? { netns } : {}) };
  }

  /** A record's ipcache entries, as every host state lists them (none: no such record). */
  ipcacheOf(name: string): readonly IpcacheEntry[] {
    return this.index().record(name)?.ipcache ?? [];
  }

  /**
   * The sides and defaults of an identity as the state of any host holding one of its
   * records lists them (the same on every such host), without building a host state.
   */
  identityRules(id: number): { sides: SideState[]; defaults: DefaultState } {
    return {
      sides: identitySides(id, this.index(), this.ctx),
      defaults: identityDefaults(id, this.ctx),
    };
  }

  /**
   * Hosts a delta concerns: every host when addresses or identities moved (each PEP
   * holds the whole ipcache), else the hosts running the affected identities.
   */
  hostsOf(delta: EngineDelta): Set<string> {
    const { state } = this.ctx;
    if (movedAddresses(delta)) {
      const all = new Set<string>(delta.hosts);
      for (const inst of state.documents.docs.Instance.values())
        if (inst.kind === 'Instance') all.add(inst.host);
      return all;
    }
    const ids = new Set<number>([...delta.sides.map((side) => side.identity), ...delta.defaults]);
    const out = new Set<string>(delta.hosts);
    // Through the identities' record sets: O(affected records), not O(records).
    const names = new Set<string>(delta.records);
    for (const id of ids)
      for (const recordName of state.ids.get(id)?.records ?? []) names.add(recordName);
    for (const name of names) {
      const instance = state.records.get(name)?.doc.instance;
      const host = instance === undefined ? undefined : state.instanceHost(instance);
      if (host !== undefined) out.add(host);
    }
    return out;
  }

  /**
   * The host-state changes of a batch (`delta`), or of everything (no delta: a reset).
   * Costs O(changed records + listed identities); listing identities is what costs.
   *
   * Which identities: those whose sides or defaults the delta names (the engine marks
   * exactly the identities whose default rows change, see apply/invalidation.ts), the
   * identities of changed records (a host may have gained them), and — when addresses
   * moved — the local identities with CIDR entries.
   */
  hostDelta(delta?: EngineDelta): HostViewDelta {
    const index = this.index();
    const full = delta === undefined;
    const names = full ? [...index.names()].sort() : delta.records;
    const records = names.map((name) => this.viewRecord(name));
    const ids = new Set<number>();
    /** Identities whose defaults must be computed afresh (the rest may reuse theirs). */
    const fresh = new Set<number>(full ? [] : delta.defaults);
    if (full) {
      this.cidrIds.clear();
      this.listedDefaults.clear();
      for (const id of index.localIdentities()) ids.add(id);
    } else {
      for (const side of delta.sides) ids.add(side.identity);
      for (const id of delta.defaults) ids.add(id);
      for (const record of records)
        if (record.attached) {
          ids.add(record.attached.identity);
          fresh.add(record.attached.identity);
        }
      for (const id of delta.identitiesAdded) fresh.add(id.id);
      for (const id of delta.identitiesReleased) fresh.add(id);
      if (delta.ipcacheUpsert.length || delta.ipcacheRemove.length)
        for (const id of this.cidrIds) ids.add(id);
    }
    const identities: IdentityHostState[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      if (!index.isLocal(id)) {
        this.cidrIds.delete(id);
        this.listedDefaults.delete(id);
        continue;
      }
      const sides = identitySides(id, index, this.ctx);
      const known = fresh.has(id) ? undefined : this.listedDefaults.get(id);
      const defaults = known ?? identityDefaults(id, this.ctx);
      this.listedDefaults.set(id, defaults);
      if (sides.some((side) => side.cidr.length > 0 || (side.routes?.cidr.length ?? 0) > 0))
        this.cidrIds.add(id);
      else this.cidrIds.delete(id);
      identities.push({ identity: id, sides, defaults });
    }
    const steering = full || delta.steering ? steerTable(this.ctx.state.classes) : undefined;
    return {
      full,
      records,
      identities,
      ...(steering ? { steering } : {}),
      hosts: full || movedAddresses(delta) ? 'all' : this.hostsOf(delta),
    };
  }

  private viewRecord(name: string): HostViewRecord {
    const attached = this.attachedRecord(name);
    return { name, ...(attached ? { attached } : {}), ipcache: this.ipcacheOf(name) };
  }

  private index(): HostIndex {
    return (this.hostIndex ??= buildHostIndex(this.ctx));
  }
}

/** Whether addresses or identities moved: every PEP holds the whole ipcache. */
function movedAddresses(delta: EngineDelta): boolean {
  return (
    delta.ipcacheUpsert.length > 0 ||
    delta.ipcacheRemove.length > 0 ||
    delta.identitiesReleased.length > 0
  );
}
