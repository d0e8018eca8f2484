/**
 * HostState → nftables JSON documents (libnftables-json(5)). Pure: no I/O.
 *
 * `renderRuleset` replaces the whole `inet vnp` table in one transaction
 * (add + delete + add, so the table never is absent between two states);
 * `renderDelta` changes only what differs between two states: map elements,
 * and whole per-identity chains and maps when identities come or go.
 */
import type { HostState } from '../../model/host-state.js';
import {
  buildModel,
  type ChainDecl,
  type RenderOptions,
  type SetDecl,
  type TableModel,
} from './model.js';
import {
  TABLE_FAMILY,
  TABLE_NAME,
  commandCount,
  type NftCommand,
  type NftJson,
  type NftValue,
} from './types.js';

export type { RenderOptions } from './model.js';

const table = { family: TABLE_FAMILY, table: TABLE_NAME };

function setObj(s: SetDecl): NftValue {
  return {
    ...table,
    name: s.name,
    type: s.type,
    ...(s.map ? { map: s.map } : {}),
    ...(s.flags ? { flags: s.flags } : {}),
  };
}

const setKind = (s: SetDecl): 'map' | 'set' => (s.map ? 'map' : 'set');

function addSet(s: SetDecl): NftCommand {
  return { add: { [setKind(s)]: setObj(s) } };
}

function elements(op: 'add' | 'delete', s: SetDecl, elems: NftValue[]): NftCommand[] {
  if (elems.length === 0) return [];
  // Deleting an element is by key alone.
  const elem = op === 'delete' && s.map ? elems.map((e) => (e as NftValue[])[0]) : elems;
  return [{ [op]: { element: { ...table, name: s.name, elem } } }];
}

function addChain(c: ChainDecl): NftCommand {
  return { add: { chain: { ...table, name: c.name, ...(c.hook ?? {}) } } };
}

function addRules(c: ChainDecl): NftCommand[] {
  return c.rules.map((expr) => ({ add: { rule: { ...table, chain: c.name, expr } } }));
}

/** The full transaction creating a table model from scratch. */
function fullFromModel(m: TableModel): NftJson {
  const t = { family: TABLE_FAMILY, name: TABLE_NAME };
  const cmds: NftCommand[] = [
    { metainfo: { json_schema_version: 1 } },
    { add: { table: t } },
    { delete: { table: t } },
    { add: { table: t } },
  ];
  const sets = [...m.sets.values()];
  const chains = [...m.chains.values()];
  // Chains first (map elements jump to them), then sets, elements, rules.
  cmds.push(...chains.map(addChain), ...sets.map(addSet));
  for (const s of sets) cmds.push(...elements('add', s, [...s.elems.values()]));
  for (const c of chains) cmds.push(...addRules(c));
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
  return fullFromModel(buildModel(state, opts));
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function sameSetShape(a: SetDecl, b: SetDecl): boolean {
  return sameJson(a.type, b.type) && a.map === b.map && sameJson(a.flags, b.flags);
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
  return renderModelDelta(buildModel(prev, opts), buildModel(next, opts));
}

/**
 * The full transaction of a table model (see {@link buildModel}).
 *
 * @example renderModel(buildModel(state)) // same as renderRuleset(state)
 */
export function renderModel(m: TableModel): NftJson {
  return fullFromModel(m);
}

/** Commands of the full render of a model, without building it. */
function fullCount(m: TableModel): number {
  let n = 3 + m.chains.size + m.sets.size;
  for (const s of m.sets.values()) if (s.elems.size > 0) n++;
  for (const c of m.chains.values()) n += c.rules.length;
  return n;
}

/**
 * {@link renderDelta} on models: the agent keeps the model of the applied state, so
 * an update builds one model, not two.
 *
 * @example renderModelDelta(appliedModel, buildModel(next))
 */
export function renderModelDelta(a: TableModel, b: TableModel): NftJson {
  const delta = deltaOfModels(a, b);
  if (delta === undefined || commandCount(delta) >= fullCount(b)) return fullFromModel(b);
  return delta;
}

/** Element-level and chain-level delta; undefined when a base chain or a set's shape changed. */
function deltaOfModels(a: TableModel, b: TableModel): NftJson | undefined {
  const addSets: NftCommand[] = [];
  const addChains: NftCommand[] = [];
  const delElems: NftCommand[] = [];
  const flushChains: NftCommand[] = [];
  const addElems: NftCommand[] = [];
  const rules: NftCommand[] = [];
  const emptyChains: NftCommand[] = [];
  const dropSets: NftCommand[] = [];
  const dropChains: NftCommand[] = [];
  for (const [name, cb] of b.chains) {
    const ca = a.chains.get(name);
    if (ca && sameJson(ca.hook, cb.hook) && sameJson(ca.rules, cb.rules)) continue;
    if (cb.hook || ca?.hook) return undefined;
    if (ca) flushChains.push({ flush: { chain: { ...table, name } } });
    else addChains.push(addChain(cb));
    rules.push(...addRules(cb));
  }
  for (const [name, ca] of a.chains) {
    if (b.chains.has(name)) continue;
    if (ca.hook) return undefined;
    emptyChains.push({ flush: { chain: { ...table, name } } });
    dropChains.push({ delete: { chain: { ...table, name } } });
  }
  for (const [name, sb] of b.sets) {
    const sa = a.sets.get(name);
    if (sa && !sameSetShape(sa, sb)) return undefined;
    if (!sa) {
      addSets.push(addSet(sb));
      addElems.push(...elements('add', sb, [...sb.elems.values()]));
      continue;
    }
    const gone: NftValue[] = [];
    const come: NftValue[] = [];
    for (const [k, sig] of sa.sigs) if (sb.sigs.get(k) !== sig) gone.push(sa.elems.get(k));
    for (const [k, sig] of sb.sigs) if (sa.sigs.get(k) !== sig) come.push(sb.elems.get(k));
    delElems.push(...elements('delete', sa, gone));
    addElems.push(...elements('add', sb, come));
  }
  for (const [name, sa] of a.sets)
    if (!b.sets.has(name)) dropSets.push({ delete: { [setKind(sa)]: { ...table, name } } });
  // Order: create before use, stop using before delete. Removed chains are emptied
  // before removed maps go (their rules use the maps) and deleted after (the maps'
  // elements may jump to them).
  const cmds = [
    ...addSets,
    ...addChains,
    ...delElems,
    ...flushChains,
    ...addElems,
    ...rules,
    ...emptyChains,
    ...dropSets,
    ...dropChains,
  ];
  return { nftables: cmds.length === 0 ? [] : [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}
