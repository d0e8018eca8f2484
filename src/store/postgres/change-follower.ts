/**
 * Hears other managers' commits on PostgreSQL: a dedicated connection
 * LISTENs on the change channel (commits pg_notify the revision inside their
 * transaction, so a notification is sent iff the commit happened). When that
 * connection drops, notifications are lost, so after every (re)connect the
 * follower reports the current revision: callers then read `changesSince`
 * and miss nothing.
 */
import pg from 'pg';
import { toRevision } from '../sql/rows.js';
import { rethrowStoreError } from '../sql/store-errors.js';

export interface FollowerSettings {
  url: string;
  channel: string;
  /** Reads the current revision (through the pool) for catch-up reports. */
  currentRevision: () => Promise<number>;
  /** First and maximum reconnect delays, ms. */
  retryMs?: { min: number; max: number };
}

/**
 * Start following; resolves once LISTEN is in place. Returns the stop function.
 *
 * @example
 *   const stop = await followChanges({ url, channel: 'vnp_changes', currentRevision }, (rev) => wake(rev));
 */
export async function followChanges(
  settings: FollowerSettings,
  report: (revision: number) => void,
): Promise<() => Promise<void>> {
  const retry = settings.retryMs ?? { min: 100, max: 5000 };
  let stopped = false;
  let current: pg.Client | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let catchUpTimer: ReturnType<typeof setTimeout> | undefined;
  let delay = retry.min;

  const safeReport = (v: unknown): void => {
    try {
      report(toRevision(v));
    } catch {
      // A malformed payload is not a revision: ignore it; the log is the truth.
    }
  };

  const reconnectLater = (): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        () => {
          delay = retry.min;
        },
        () => {
          delay = Math.min(delay * 2, retry.max);
          reconnectLater();
        },
      );
    }, delay);
  };

  const connect = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: settings.url });
    // 'error' always precedes or accompanies 'end'; reconnect on 'end' only.
    client.on('error', () => undefined);
    client.on('end', () => {
      if (current === client) {
        current = undefined;
        reconnectLater();
      }
    });
    client.on('notification', (msg) => {
      if (msg.channel === settings.channel) safeReport(msg.payload);
    });
    try {
      await client.connect();
      // The channel is a constant identifier of ours, never a caller's value.
      await client.query(`LISTEN ${settings.channel}`);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    if (stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
    // Catch up on whatever was committed while we were not listening.
    catchUp();
  };

  // Report the current revision; retried until the pool can answer, because a
  // commit made while we were deaf may never be followed by another notification.
  const catchUp = (): void => {
    if (stopped) return;
    settings.currentRevision().then(safeReport, () => {
      catchUpTimer = setTimeout(catchUp, retry.max);
    });
  };

  await connect().catch(rethrowStoreError);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (catchUpTimer) clearTimeout(catchUpTimer);
    const client = current;
    current = undefined;
    await client?.end().catch(() => undefined);
  };
}
