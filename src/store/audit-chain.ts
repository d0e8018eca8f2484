/**
 * The audit log's hash chain (docs/adr/0024-audit-chain.md): every change-log entry
 * stores `hash = SHA-256(prevHash + "\n" + canonical(entry))`, where `prevHash` is the
 * hash of the entry one revision before (64 zeros for the first). Changing, removing or
 * inserting an entry breaks the link at that entry; {@link verifyChain} names the first
 * broken one. Entries are canonical JSON (keys sorted, times as ISO-8601 in UTC), so the
 * hash survives the database's own re-encoding (jsonb reorders keys).
 */
import { createHash } from 'node:crypto';
import type { ChangeRecord } from '../model/change-log.js';
import type { ChainState } from '../model/audit.js';

/** The previous hash of the first chained entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** A change-log entry with its chain fields (absent on entries older than the chain). */
export interface ChainedRecord extends ChangeRecord {
  prevHash?: string;
  hash?: string;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash of an entry after `prevHash`.
 *
 * @example entryHash(GENESIS_HASH, record) // '3f2a…' (64 hex digits)
 */
export function entryHash(prevHash: string, r: ChangeRecord): string {
  const body = canonical({
    revision: r.revision,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    changes: r.changes,
  });
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}

/** Where verification stands after some entries (feed pages in revision order): src/model/audit.ts. */
export type { ChainState };

/**
 * Check the next entries (ascending revisions, continuing `state`); stops at the first
 * broken link.
 *
 * @example verifyChain({ checked: 0, unchained: 0 }, await store.auditChain(0, 1000))
 */
export function verifyChain(state: ChainState, entries: readonly ChainedRecord[]): ChainState {
  const next = { ...state };
  for (const entry of entries) {
    if (next.broken) return next;
    const fail = (reason: string) => (next.broken = { revision: entry.revision, reason });
    if (next.last !== undefined && entry.revision !== next.last + 1) {
      fail(
        `revision ${next.last + 1} is missing: the log jumps from ${next.last} to ${entry.revision}`,
      );
      break;
    }
    next.last = entry.revision;
    if (entry.hash === undefined) {
      if (next.checked > 0) fail('has no hash, but entries before it do');
      else next.unchained++;
      continue;
    }
    // The first chained entry's previous hash is taken as given (genesis, or the hash of
    // an entry pruned from the log); every later one must link to the entry before it.
    if (entry.prevHash === undefined) fail('has a hash but no previous hash');
    else if (next.head !== undefined && entry.prevHash !== next.head)
      fail(
        `its previous hash ${short(entry.prevHash)} is not the hash of revision ${entry.revision - 1} (${short(next.head)}): an entry before it was altered`,
      );
    else if (entryHash(entry.prevHash, entry) !== entry.hash)
      fail('its content does not match its hash: the entry was altered');
    if (next.broken) break;
    next.first ??= entry.revision;
    next.head = entry.hash;
    next.checked++;
  }
  return next;
}

function short(h: string | undefined): string {
  return h === undefined ? 'none' : h.slice(0, 12);
}
