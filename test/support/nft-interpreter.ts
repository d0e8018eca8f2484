/**
 * A strict interpreter of the nft JSON documents the agent emits, standing in for the
 * kernel in pure tests: it keeps the `inet vnp` table as sets of canonical elements
 * and chains of rules, and refuses what nft refuses (adding an element or object that
 * exists, deleting one that does not, using a set or chain that is not there), so a
 * document that passes here also has the right shape for the kernel.
 */
import type { NftJson } from '../../src/agent/nft/types.js';

/** The kernel-visible content of the table: set name → canonical elements, chain → rules. */
export interface InterpretedTable {
  sets: Map<string, { kind: string; shape: string; elements: Map<string, string> }>;
  chains: Map<string, string[]>;
  /** Named counter objects. */
  counters: Set<string>;
}

type Obj = Record<string, unknown> & { name?: string; chain?: string; elem?: unknown[] };

/** An element's key (maps: the first of `[key, value]`) and its canonical form. */
function canonical(kind: string, elem: unknown): [string, string] {
  if (kind === 'map') {
    const [key, value] = elem as [unknown, unknown];
    return [JSON.stringify(key), `${JSON.stringify(key)}=>${JSON.stringify(value)}`];
  }
  return [JSON.stringify(elem), JSON.stringify(elem)];
}

/**
 * Applies a document to `table` (all or nothing, like one nft transaction).
 *
 * @example const t = emptyTable(); interpret(t, renderRuleset(state));
 */
export function interpret(table: InterpretedTable | undefined, doc: NftJson): InterpretedTable {
  let t: InterpretedTable | undefined = table && {
    sets: new Map(
      [...table.sets].map(([k, s]) => [k, { ...s, elements: new Map(s.elements) }] as const),
    ),
    chains: new Map([...table.chains].map(([k, rules]) => [k, [...rules]] as const)),
    counters: new Set(table.counters),
  };
  const counterUse = (name: string) => `{"counter":${JSON.stringify(name)}}`;
  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new Error(`nft: no such ${what}`);
    return x;
  };
  for (const command of doc.nftables) {
    const [op, body] = Object.entries(command)[0]! as [string, Record<string, Obj>];
    if (op === 'metainfo') continue;
    const [kind, obj] = Object.entries(body)[0]!;
    if (kind === 'table') {
      if (op === 'add') t ??= { sets: new Map(), chains: new Map(), counters: new Set() };
      else if (op === 'delete') t = undefined;
      continue;
    }
    const tab = need(t, 'table');
    if (kind === 'set' || kind === 'map') {
      const shape = JSON.stringify([obj.type, obj.map, obj.flags]);
      if (op === 'add') {
        if (tab.sets.has(obj.name!)) throw new Error(`nft: set ${obj.name} exists`);
        tab.sets.set(obj.name!, { kind, shape, elements: new Map() });
      } else if (op === 'delete') {
        need(tab.sets.get(obj.name!), `set ${obj.name}`);
        tab.sets.delete(obj.name!);
      }
      continue;
    }
    if (kind === 'element') {
      const set = need(tab.sets.get(obj.name!), `set ${obj.name}`);
      for (const e of obj.elem!) {
        if (op === 'add') {
          const [key, sig] = canonical(set.kind, e);
          if (set.elements.has(key)) throw new Error(`nft: element ${key} exists in ${obj.name}`);
          set.elements.set(key, sig);
        } else {
          const key = JSON.stringify(e);
          if (!set.elements.delete(key)) throw new Error(`nft: no element ${key} in ${obj.name}`);
        }
      }
      continue;
    }
    if (kind === 'chain') {
      if (op === 'add') {
        if (tab.chains.has(obj.name!)) throw new Error(`nft: chain ${obj.name} exists`);
        tab.chains.set(obj.name!, []);
      } else if (op === 'flush') need(tab.chains.get(obj.name!), `chain ${obj.name}`).length = 0;
      else if (op === 'delete') {
        if (need(tab.chains.get(obj.name!), `chain ${obj.name}`).length > 0)
          throw new Error(`nft: chain ${obj.name} is not empty`);
        tab.chains.delete(obj.name!);
      }
      continue;
    }
    if (kind === 'counter') {
      // `add` of an existing counter keeps it (and its count), as nft does.
      if (op === 'add') tab.counters.add(obj.name!);
      else if (op === 'delete') {
        if (!tab.counters.has(obj.name!)) throw new Error(`nft: no counter ${obj.name}`);
        for (const rules of tab.chains.values())
          if (rules.some((r) => r.includes(counterUse(obj.name!))))
            throw new Error(`nft: counter ${obj.name} is in use`);
        tab.counters.delete(obj.name!);
      }
      continue;
    }
    if (kind === 'rule' && op === 'add') {
      const expr = JSON.stringify(obj.expr);
      for (const e of obj.expr as Record<string, unknown>[])
        if (typeof e.counter === 'string' && !tab.counters.has(e.counter))
          throw new Error(`nft: no counter ${e.counter}`);
      need(tab.chains.get(obj.chain!), `chain ${obj.chain}`).push(expr);
      continue;
    }
    throw new Error(`nft: unexpected command ${op} ${kind}`);
  }
  return need(t, 'table');
}

/** The table in a comparable form: sorted sets, elements and chains. */
export function comparable(t: InterpretedTable): unknown {
  return {
    sets: [...t.sets]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, s]) => [name, s.kind, s.shape, [...s.elements.values()].sort()]),
    chains: [...t.chains].sort(([a], [b]) => (a < b ? -1 : 1)),
    counters: [...t.counters].sort(),
  };
}
