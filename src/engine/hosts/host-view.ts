/**
 * The host view facet: what the distribution feed reads — a host's whole state (for
 * snapshots), the hosts a delta concerns, and per-record / per-identity pieces of host
 * state (for deltas), all from the shared host index (./host-state-builder.ts).
 */
import type { DeltaRecord } from '../../model/host-delta.js';
import type { DefaultState, HostState, IpcacheEntry, SideState } from '../../model/host-state.js';
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

export class HostView {
  private readonly ctx: HostStateContext;
  /** Shared part of every host's state; built on first use, then updated per change. */
  private hostIndex: HostIndex | undefined;

  constructor(state: EngineState, sides: Sides) {
    this.ctx = { state, sides };
  }

  /** Keeps the host index current after a batch (a quiet one: rebuilt on first use). */
  afterBatch(delta: EngineDelta, quiet: boolean): void {
    if (quiet) this.hostIndex = undefined;
    else this.hostIndex?.update(delta.records, this.ctx);
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
  identityState(id: number): { sides: SideState[]; defaults: DefaultState } {
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
    if (
      delta.ipcacheUpsert.length ||
      delta.ipcacheRemove.length ||
      delta.identitiesReleased.length
    ) {
      const all = new Set<string>(delta.hosts);
      for (const inst of state.documents.docs.Instance.values())
        if (inst.kind === 'Instance') all.add(inst.host);
      return all;
    }
    const ids = new Set<number>([...delta.sides.map((s) => s.identity), ...delta.defaults]);
    const out = new Set<string>(delta.hosts);
    // Through the identities' record sets: O(affected records), not O(records).
    const names = new Set<string>(delta.records);
    for (const id of ids) for (const n of state.ids.get(id)?.records ?? []) names.add(n);
    for (const name of names) {
      const instance = state.records.get(name)?.doc.instance;
      const h = instance === undefined ? undefined : state.instanceHost(instance);
      if (h !== undefined) out.add(h);
    }
    return out;
  }

  private index(): HostIndex {
    return (this.hostIndex ??= buildHostIndex(this.ctx));
  }
}
