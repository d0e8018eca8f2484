/**
 * One nft transaction being assembled (libnftables-json(5)): commands collected in
 * buckets and emitted in an order the kernel accepts — create before use, stop using
 * before delete. Removed chains are emptied before removed maps go (their rules use
 * the maps) and deleted after (the maps' elements may jump to them); a chain's named
 * counters are created before its rules and deleted after it. Pure.
 */
import type { ChainDecl, SetDecl } from './table.js';
import { TABLE_FAMILY, TABLE_NAME, type NftCommand, type NftJson, type NftValue } from './types.js';

export const table = { family: TABLE_FAMILY, table: TABLE_NAME };

const setKind = (s: SetDecl): 'map' | 'set' => (s.map ? 'map' : 'set');

export function addSetCommand(s: SetDecl): NftCommand {
  return {
    add: {
      [setKind(s)]: {
        ...table,
        name: s.name,
        type: s.type,
        ...(s.map ? { map: s.map } : {}),
        ...(s.flags ? { flags: s.flags } : {}),
      },
    },
  };
}

/**
 * Elements per `add`/`delete element` command: few enough that one command always fits
 * in one netlink message (64 KiB; the largest element — an IPv6 range . proto . port
 * range key with its end and a `goto` to a 256-byte chain name — takes under 400 bytes).
 * nft 1.0.6 splits a larger command over several messages and writes the first element
 * of every message after the first with its mark in the wrong byte order (1000 becomes
 * 0xe8030000: an element that matches nothing, and whose delete later fails with
 * ENOENT; a few such errors, each echoing a 64 KiB message, overflow nft's socket as
 * "No buffer space available"). The commands of one document are still one transaction
 * (docs/adr/0043-element-batches-and-marked-sweep.md).
 */
export const ELEMENTS_PER_COMMAND = 128;

/**
 * The commands adding or deleting `elems` of set `s`, {@link ELEMENTS_PER_COMMAND} each.
 *
 * @example elementCommands('add', ipcache4, elems) // ⌈elems.length / 128⌉ commands
 */
export function elementCommands(op: 'add' | 'delete', s: SetDecl, elems: NftValue[]): NftCommand[] {
  // Deleting an element is by key alone.
  const elem = op === 'delete' && s.map ? elems.map((e) => (e as NftValue[])[0]) : elems;
  const out: NftCommand[] = [];
  for (let i = 0; i < elem.length; i += ELEMENTS_PER_COMMAND) {
    const chunk = elem.slice(i, i + ELEMENTS_PER_COMMAND);
    out.push({ [op]: { element: { ...table, name: s.name, elem: chunk } } });
  }
  return out;
}

export function addChainCommand(c: ChainDecl): NftCommand {
  return { add: { chain: { ...table, name: c.name, ...(c.hook ?? {}) } } };
}

/** `add counter` for each named counter of a chain (an existing one keeps its count). */
export function counterCommands(c: ChainDecl): NftCommand[] {
  return (c.counters ?? []).map((name) => ({ add: { counter: { ...table, name } } }));
}

export function ruleCommands(c: ChainDecl): NftCommand[] {
  return c.rules.map((expr) => ({ add: { rule: { ...table, chain: c.name, expr } } }));
}

/**
 * The commands of a delta, by bucket. Element changes are collected per set and
 * emitted as one command per set and operation.
 */
export class Transaction {
  private readonly addSets: NftCommand[] = [];
  private readonly addChains: NftCommand[] = [];
  private readonly deletes = new Map<SetDecl, NftValue[]>();
  private readonly flushChains: NftCommand[] = [];
  private readonly adds = new Map<SetDecl, NftValue[]>();
  private readonly rules: NftCommand[] = [];
  private readonly emptyChains: NftCommand[] = [];
  private readonly dropSets: NftCommand[] = [];
  private readonly dropChains: NftCommand[] = [];
  private readonly dropCounters: NftCommand[] = [];

  /** A new set (its elements go through {@link addElement}). */
  createSet(s: SetDecl): void {
    this.addSets.push(addSetCommand(s));
  }

  dropSet(s: SetDecl): void {
    this.dropSets.push({ delete: { [setKind(s)]: { ...table, name: s.name } } });
  }

  /** A new chain with its rules. */
  createChain(c: ChainDecl): void {
    this.addChains.push(...counterCommands(c), addChainCommand(c));
    this.rules.push(...ruleCommands(c));
  }

  /** An existing chain whose rules all change. */
  rewriteChain(c: ChainDecl): void {
    this.flushChains.push({ flush: { chain: { ...table, name: c.name } } });
    this.rules.push(...ruleCommands(c));
  }

  /** Drops a chain and the named counters it owns. */
  dropChain(name: string, counters: readonly string[] = []): void {
    this.emptyChains.push({ flush: { chain: { ...table, name } } });
    this.dropChains.push({ delete: { chain: { ...table, name } } });
    for (const c of counters)
      this.dropCounters.push({ delete: { counter: { ...table, name: c } } });
  }

  addElement(s: SetDecl, elem: NftValue): void {
    const list = this.adds.get(s);
    if (list) list.push(elem);
    else this.adds.set(s, [elem]);
  }

  deleteElement(s: SetDecl, elem: NftValue): void {
    const list = this.deletes.get(s);
    if (list) list.push(elem);
    else this.deletes.set(s, [elem]);
  }

  /** The document; `{nftables: []}` when nothing changes. */
  document(): NftJson {
    const perSet = (op: 'add' | 'delete', m: Map<SetDecl, NftValue[]>) =>
      [...m].flatMap(([s, elems]) => elementCommands(op, s, elems));
    const cmds = [
      ...this.addSets,
      ...this.addChains,
      ...perSet('delete', this.deletes),
      ...this.flushChains,
      ...perSet('add', this.adds),
      ...this.rules,
      ...this.emptyChains,
      ...this.dropSets,
      ...this.dropChains,
      ...this.dropCounters,
    ];
    return {
      nftables: cmds.length === 0 ? [] : [{ metainfo: { json_schema_version: 1 } }, ...cmds],
    };
  }
}
