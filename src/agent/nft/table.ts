/**
 * The `inet vnp` table as data: named sets and maps with their elements keyed by a
 * canonical string, and chains with their rules. The full render (render.ts) and the
 * incremental updates (applied-table.ts) both speak in these, so the table the kernel
 * holds is always one of them. Pure.
 */
import type { NftValue } from './types.js';

/** A set or map of the table. */
export interface SetDecl {
  name: string;
  type: string | string[];
  /** Value type for maps (`verdict`, `mark`). */
  map?: string;
  flags?: string[];
  /** Canonical key → element JSON (a key, or `[key, value]` for maps). */
  elems: Map<string, NftValue>;
  /** Canonical key → canonical element (key and value): equal strings, equal elements. */
  sigs: Map<string, string>;
}

/** A chain; `hook` for base chains. */
export interface ChainDecl {
  name: string;
  hook?: { type: 'filter'; hook: 'forward' | 'prerouting'; prio: number; policy: 'accept' };
  rules: NftValue[][];
  /** Named counters only this chain's rules use: created with it, deleted after it. */
  counters?: string[];
}

/** The whole table. */
export interface NftTable {
  sets: Map<string, SetDecl>;
  chains: Map<string, ChainDecl>;
}

/** Options of the table derivation. */
/** Where deny samples go and how many per second a host hands to user space (deny-chain.ts). */
export interface DenyLogOptions {
  /** NFLOG group (default 86). */
  group?: number;
  /** Samples per second per host (default 200); 0: none. */
  rate?: number;
}

export interface RenderOptions {
  /** VNI for records whose subnet has none (default 1). */
  defaultVni?: number;
  /** Where deny samples go and at what rate (deny-chain.ts). */
  denyLog?: DenyLogOptions;
}

export function newSet(
  name: string,
  type: string | string[],
  map?: string,
  interval = false,
): SetDecl {
  return {
    name,
    type,
    ...(map ? { map } : {}),
    ...(interval ? { flags: ['interval'] } : {}),
    elems: new Map(),
    sigs: new Map(),
  };
}

/** One element of a set: its canonical key, JSON and signature (key and value). */
export interface Element {
  key: string;
  elem: NftValue;
  sig: string;
}

/** The element `key` (→ `value` in a map), in canonical form. */
export function element(key: NftValue, value?: NftValue): Element {
  const k = JSON.stringify(key);
  return value === undefined
    ? { key: k, elem: key, sig: k }
    : { key: k, elem: [key, value], sig: `${k}=>${JSON.stringify(value)}` };
}

export function putElement(set: SetDecl, e: Element): void {
  set.elems.set(e.key, e.elem);
  set.sigs.set(e.key, e.sig);
}

export function put(set: SetDecl, key: NftValue, value?: NftValue): void {
  putElement(set, element(key, value));
}
