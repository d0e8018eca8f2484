/**
 * The per-identity part of the host feed (src/server/distribution/host-feed.ts): the
 * sides and defaults of every identity local on some host, as the streams last
 * received them, and what each step changed in them — per side, the peers whose
 * entries changed (./side-diff.ts), so that agents folding side patches receive only
 * those (docs/adr/0045-side-patches-on-the-wire.md).
 *
 * Costs per listed identity: a pointer walk of its peer lists and the JSON of its
 * small parts; whole sides are serialised only when some stream needs them (a host
 * that gains the identity, or a stream without side patches), once per change.
 */
import type { IdentityHostState } from '../../engine/index.js';
import type { DefaultState, SideState } from '../../model/host-state.js';
import {
  mergeSideChange,
  patchJson,
  sideChange,
  sideParts,
  type SideChange,
  type SideParts,
} from './side-diff.js';
import { sideJson } from './side-json.js';

/** What one step changed in an identity's state. */
export interface IdentityChange {
  /** The sides that changed. */
  sides: SideChange[];
  defaults: boolean;
}

/** A host's share of an identity's change, as message fragments. */
export interface IdentityFragments {
  sides: string[];
  patches: string[];
  defaults?: string;
}

interface IdentityState {
  sides: SideState[];
  parts: SideParts[];
  defaults: DefaultState;
  defaultsJson: string;
  /** JSON of `sides`, built on first use. */
  sidesJson?: string[];
}

const defaultsJsonOf = new WeakMap<DefaultState, string>();

/** `JSON.stringify(d)`, once per object (the engine reuses a row until it changes). */
function defaultsJson(d: DefaultState): string {
  let json = defaultsJsonOf.get(d);
  if (json === undefined) defaultsJsonOf.set(d, (json = JSON.stringify(d)));
  return json;
}

export class FeedIdentities {
  private readonly ids = new Map<number, IdentityState>();

  clear(): void {
    this.ids.clear();
  }

  /** Forget an identity (local nowhere now). */
  forget(id: number): void {
    this.ids.delete(id);
  }

  /**
   * Take the listed identities' state (those `isLocal`); return what changed, by
   * identity (an identity new to the feed changed whole).
   */
  refresh(
    listed: readonly IdentityHostState[],
    isLocal: (id: number) => boolean,
  ): Map<number, IdentityChange> {
    const changes = new Map<number, IdentityChange>();
    for (const { identity: id, sides, defaults } of listed) {
      if (!isLocal(id)) continue;
      const prev = this.ids.get(id);
      const parts = new Array<SideParts>(sides.length);
      const changed: SideChange[] = [];
      for (let i = 0; i < sides.length; i++) {
        const side = sides[i]!;
        const j = prev ? directionIndex(prev.sides, side.direction) : -1;
        // The engine lists an unchanged side as the same object: its parts stay.
        if (j >= 0 && prev!.sides[j] === side) {
          parts[i] = prev!.parts[j]!;
          continue;
        }
        const before = j < 0 ? undefined : { side: prev!.sides[j]!, parts: prev!.parts[j]! };
        const sp = (parts[i] = sideParts(side, before));
        const c = sideChange(before, { side, parts: sp });
        if (c) changed.push(c);
      }
      const next: IdentityState = { sides, parts, defaults, defaultsJson: defaultsJson(defaults) };
      // A side gone (never in practice: an identity lists both directions) is a whole change.
      const gone =
        prev !== undefined && prev.sides.some((x) => directionIndex(sides, x.direction) < 0);
      const defaultsChanged = !prev || prev.defaultsJson !== next.defaultsJson;
      if (gone) changes.set(id, { sides: wholeChanges(sides), defaults: true });
      else if (changed.length || defaultsChanged)
        changes.set(id, { sides: changed, defaults: defaultsChanged });
      if (prev && !changed.length && !gone) next.sidesJson = prev.sidesJson;
      this.ids.set(id, next);
    }
    return changes;
  }

  /** The identity's whole sides and defaults (a host that gains it, or a stream without patches). */
  whole(id: number): IdentityFragments | undefined {
    const st = this.ids.get(id);
    if (!st) return undefined;
    st.sidesJson ??= st.sides.map(sideJson);
    return { sides: st.sidesJson, patches: [], defaults: st.defaultsJson };
  }

  /** A host holding the identity before and after `change`: its sides patched, its defaults if changed. */
  patched(id: number, change: IdentityChange): IdentityFragments | undefined {
    const st = this.ids.get(id);
    if (!st) return undefined;
    const out: IdentityFragments = { sides: [], patches: [] };
    for (const c of change.sides) {
      const i = st.sides.findIndex((s) => s.direction === c.direction);
      if (i < 0) continue;
      if (c.whole) out.sides.push((st.sidesJson ??= st.sides.map(sideJson))[i]!);
      else out.patches.push(patchJson(id, c, st.sides[i]!, st.parts[i]!));
    }
    if (change.defaults) out.defaults = st.defaultsJson;
    return out;
  }
}

/** Position of the side of `direction` in `sides` (at most two), or -1. */
function directionIndex(sides: readonly SideState[], direction: SideState['direction']): number {
  for (let i = 0; i < sides.length; i++) if (sides[i]!.direction === direction) return i;
  return -1;
}

function wholeChanges(sides: readonly SideState[]): SideChange[] {
  return sides.map((s) => ({
    direction: s.direction,
    whole: true,
    peers: [],
    cidr: true,
    any: true,
    routes: true,
  }));
}

/**
 * Several steps' changes of one identity as one (a slow reader's coalesced message):
 * per side, the peers united; the entries are read from the current side.
 */
export function mergeIdentityChanges(changes: readonly IdentityChange[]): IdentityChange {
  if (changes.length === 1) return changes[0]!;
  const sides = new Map<string, SideChange>();
  let defaults = false;
  for (const ch of changes) {
    defaults ||= ch.defaults;
    for (const c of ch.sides) {
      const before = sides.get(c.direction);
      sides.set(c.direction, before ? mergeSideChange(before, c) : c);
    }
  }
  return { sides: [...sides.values()], defaults };
}
