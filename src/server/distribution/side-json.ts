/**
 * The JSON of a side as host states and deltas carry it, byte for byte what
 * `JSON.stringify(side)` gives, with each peer entry serialised once: the engine hands
 * back the same entry objects while a peer's table is unchanged, and the same peer
 * list while no peer of the side changed (src/engine/hosts/host-state-builder.ts). So
 * after an identity joined one of a side's peer selectors, its JSON is a join of cached
 * fragments plus the new peer's entries, not a walk of every entry.
 */
import type { PeerEntry, SideState } from '../../model/host-state.js';

const fragments = new WeakMap<PeerEntry, string>();
const lists = new WeakMap<readonly PeerEntry[], string>();

/** `JSON.stringify(e)`, once per entry object. */
export function entryJson(e: PeerEntry): string {
  let json = fragments.get(e);
  if (json === undefined) {
    json = JSON.stringify(e);
    fragments.set(e, json);
  }
  return json;
}

function peersJson(peers: readonly PeerEntry[]): string {
  let json = lists.get(peers);
  if (json === undefined) {
    json = `[${peers.map(entryJson).join(',')}]`;
    lists.set(peers, json);
  }
  return json;
}

/**
 * `JSON.stringify(side)`, with peer entries' JSON cached per entry and per list.
 *
 * @example sideJson(side) === JSON.stringify(side) // true
 */
export function sideJson(side: SideState): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(side)) {
    if (value === undefined) continue;
    const json = key === 'peers' ? peersJson(value as PeerEntry[]) : JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${json}`);
  }
  return `{${parts.join(',')}}`;
}
