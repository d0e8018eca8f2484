/**
 * Pending reaction expiries as the events page counts them down. The manager stores an
 * expiry per (record, reaction) at `event time + ttl`, and a later event that fires the
 * same reaction moves it (docs/reactions.md): so the latest such event decides.
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

/**
 * Expiries still pending at `now` (ms), soonest first.
 *
 * @example pendingExpiries([{ at: '…T00:00:00Z', type: 'x', target: 'a', record: 'a', reactions: ['q'] }], { q: 300 }, t)
 */
export function pendingExpiries(
  events: EventItem[],
  ttlSeconds: Record<string, number | undefined>,
  now: number,
): Expiry[] {
  const latest = new Map<string, Expiry>();
  for (const e of events) {
    const at = Date.parse(e.at);
    for (const reaction of e.reactions ?? []) {
      const ttl = ttlSeconds[reaction];
      if (ttl === undefined || e.record === undefined) continue;
      const key = `${e.record}\u0000${reaction}`;
      const expiresAt = at + ttl * 1000;
      if ((latest.get(key)?.expiresAt ?? -Infinity) < expiresAt)
        latest.set(key, { record: e.record, reaction, expiresAt });
    }
  }
  return [...latest.values()]
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
