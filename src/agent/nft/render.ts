/**
 * The table (table.ts) → nftables JSON documents (libnftables-json(5)). Pure: no I/O.
 *
 * `renderRuleset` replaces the whole `inet vnp` table in one transaction
 * (add + delete + add, so the table never is absent between two states);
 * `renderDelta` changes only what differs between two tables: map elements,
 * and whole per-identity chains and maps when identities come or go. The agent
 * itself keeps its table incrementally (applied-table.ts); `renderDelta` is the
 * state-to-state reference.
 */
import type { HostState } from '../../model/host-state.js';
import { buildTable } from './build-table.js';
import type { ChainDecl, NftTable, RenderOptions, SetDecl } from './table.js';
import {
  addChainCommand,
  addSetCommand,
  counterCommands,
  elementCommands,
  ruleCommands,
  Transaction,
} from './transaction.js';
import { TABLE_FAMILY, TABLE_NAME, commandCount, type NftCommand, type NftJson } from './types.js';

export type { RenderOptions } from './table.js';

/**
 * The full transaction creating a table from scratch, replacing any previous one.
 *
 * @example renderTable(buildTable(state)) // same as renderRuleset(state)
 */
export function renderTable(m: NftTable): NftJson {
  const t = { family: TABLE_FAMILY, name: TABLE_NAME };
  const cmds: NftCommand[] = [
    { metainfo: { json_schema_version: 1 } },
    { add: { table: t } },
    { delete: { table: t } },
    { add: { table: t } },
  ];
  const sets = [...m.sets.values()];
  const chains = [...m.chains.values()];
  // Chains first (map elements jump to them), then sets, elements, rules (after the
  // named counters they use).
  cmds.push(...chains.flatMap(counterCommands));
  cmds.push(...chains.map(addChainCommand), ...sets.map(addSetCommand));
  for (const s of sets) cmds.push(...elementCommands('add', s, [...s.elems.values()]));
  for (const c of chains) cmds.push(...ruleCommands(c));
  return { nftables: cmds };
}

/**
 * The complete ruleset enforcing `state`, as one atomic transaction that replaces
 * any previous `inet vnp` table.
 *
 * @example
 *   const doc = renderRuleset(state);
 *   await backend.apply(doc); // nft -j -f -
 */
export function renderRuleset(state: HostState, opts: RenderOptions = {}): NftJson {
  return renderTable(buildTable(state, opts));
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function sameSetShape(a: SetDecl, b: SetDecl): boolean {
  return sameJson(a.type, b.type) && a.map === b.map && sameJson(a.flags, b.flags);
}

export function sameChain(a: ChainDecl, b: ChainDecl): boolean {
  return sameJson(a.hook, b.hook) && sameJson(a.rules, b.rules);
}

/**
 * The transaction turning the table of `prev` into the table of `next`. Empty
 * (`{nftables: []}`) when nothing changes. Falls back to `renderRuleset(next)` when
 * the delta would be as large as a full replace or the structure differs.
 *
 * @example
 *   const doc = renderDelta(prevState, nextState);
 *   if (doc.nftables.length > 0) await backend.apply(doc);
 */
export function renderDelta(prev: HostState, next: HostState, opts: RenderOptions = {}): NftJson {
  return renderTableDelta(buildTable(prev, opts), buildTable(next, opts));
}

/** Commands of the full render of a table, without building it. */
function fullCount(m: NftTable): number {
  let n = 3 + m.chains.size + m.sets.size;
  for (const s of m.sets.values()) if (s.elems.size > 0) n++;
  for (const c of m.chains.values()) n += c.rules.length + (c.counters?.length ?? 0);
  return n;
}

/**
 * {@link renderDelta} on tables.
 *
 * @example renderTableDelta(buildTable(prev), buildTable(next))
 */
export function renderTableDelta(a: NftTable, b: NftTable): NftJson {
  const delta = deltaOfTables(a, b);
  if (delta === undefined || commandCount(delta) >= fullCount(b)) return renderTable(b);
  return delta;
}

/** Element-level and chain-level delta; undefined when a base chain or a set's shape changed. */
function deltaOfTables(a: NftTable, b: NftTable): NftJson | undefined {
  const tx = new Transaction();
  for (const [name, cb] of b.chains) {
    const ca = a.chains.get(name);
    if (ca && sameChain(ca, cb)) continue;
    if (cb.hook || ca?.hook) return undefined;
    if (ca) tx.rewriteChain(cb);
    else tx.createChain(cb);
  }
  for (const [name, ca] of a.chains) {
    if (b.chains.has(name)) continue;
    if (ca.hook) return undefined;
    tx.dropChain(name, ca.counters);
  }
  for (const [name, sb] of b.sets) {
    const sa = a.sets.get(name);
    if (sa && !sameSetShape(sa, sb)) return undefined;
    if (!sa) {
      tx.createSet(sb);
      for (const e of sb.elems.values()) tx.addElement(sb, e);
      continue;
    }
    for (const [k, sig] of sa.sigs)
      if (sb.sigs.get(k) !== sig) tx.deleteElement(sa, sa.elems.get(k));
    for (const [k, sig] of sb.sigs) if (sa.sigs.get(k) !== sig) tx.addElement(sb, sb.elems.get(k));
  }
  for (const [name, sa] of a.sets) if (!b.sets.has(name)) tx.dropSet(sa);
  return tx.document();
}
