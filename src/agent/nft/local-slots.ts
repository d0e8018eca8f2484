/**
 * Slots: the names under which a local identity's chains and maps live in the table
 * (`eg-S`, `in-S`, their side maps, `def-S`, `st-S`). Pure.
 *
 * A slot is the host-side veth name of the identity's first local record by record
 * name, not the identity number (docs/adr/0068-local-slots.md). When a tag change
 * gives a local record a new identity, its slot stays, so the identity's chains and
 * maps stay: the delta is the map elements in which the two identities differ (plus
 * the ipcache and interface elements), not two sets of 17 maps, 2 chains and their
 * rules created and deleted. The slot is a function of the state alone, so a full
 * render and an incremental update name everything alike.
 */
import type { HostState } from '../../model/host-state.js';
import { vethName } from '../names.js';

/**
 * Local identity → its slot, by ascending identity.
 *
 * @example localSlots(state).get(256) // vethName of the first local record with identity 256
 */
export function localSlots(state: HostState): Map<number, string> {
  const first = new Map<number, string>();
  for (const r of state.locals) {
    const had = first.get(r.identity);
    if (had === undefined || r.name < had) first.set(r.identity, r.name);
  }
  const slots = new Map<number, string>();
  for (const id of [...first.keys()].sort((a, b) => a - b)) slots.set(id, vethName(first.get(id)!));
  return slots;
}

/**
 * Which identity each slot holds, as applied: the incremental table (applied-table.ts)
 * reads a changed chain's or map's identity from its slot, and judges a slot that
 * changed hands as a change of both identities.
 */
export class SlotIdentities {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();

  /**
   * Takes the slots of the next state; returns the (old, new) identities of each slot
   * whose identity changed.
   */
  move(slots: ReadonlyMap<number, string>): [number, number][] {
    this.previous = this.current;
    this.current = new Map([...slots].map(([id, slot]) => [slot, id]));
    const moved: [number, number][] = [];
    for (const [slot, id] of this.current) {
      const was = this.previous.get(slot);
      if (was !== undefined && was !== id) moved.push([was, id]);
    }
    return moved;
  }

  /** The identity of `slot` now, or before the last {@link move} when the slot went. */
  identityOf(slot: string): number | undefined {
    return this.current.get(slot) ?? this.previous.get(slot);
  }
}
