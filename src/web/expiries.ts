/**
 * Pending reaction expiries as the events page counts them down, from the manager's own
 * list (`GET /v1/expiries`): an expiry per (record, reaction) at `event time + ttl`,
 * moved by a later event that fires the same reaction (docs/reactions.md).
 */

export interface EventItem {
  at: string;
  type: string;
  target: string;
  record?: string;
  reactions?: string[];
}

export interface Expiry {
  record: string;
  reaction: string;
  expiresAt: number;
}

/** One of `GET /v1/expiries`: the undo of a TTL reaction the manager will run. */
export interface PendingExpiry {
  record: string;
  reaction: string;
  expiresAt: string;
}

/**
 * The expiries still ahead at `now` (ms), soonest first, with their time in ms (between
 * two polls some may have passed: they show as gone at once, not as `0s`).
 *
 * @example pendingAt([{ record: 'a', reaction: 'q', expiresAt: '2026-01-01T00:05:00Z' }], t)
 */
export function pendingAt(items: PendingExpiry[], now: number): Expiry[] {
  return items
    .map((x) => ({ record: x.record, reaction: x.reaction, expiresAt: Date.parse(x.expiresAt) }))
    .filter((x) => x.expiresAt > now)
    .sort((a, b) => a.expiresAt - b.expiresAt);
}

/**
 * A countdown as the page shows it.
 *
 * @example countdown(3_725_000) // '1h 02m 05s'
 */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(sec)}s` : m > 0 ? `${m}m ${pad(sec)}s` : `${sec}s`;
}
