/**
 * Offline recovery (the lockout escape hatch): create a token by writing straight to
 * the store, without a running manager — `vnp token create --role admin --data-dir DIR`
 * on the manager's host. Whoever can read the data directory or reach the database
 * owns vnp anyway; this needs no more than that. The creation is audited like any
 * other (actor `offline:<user>`), as an empty batch committed at the store's current
 * revision, so running managers on PostgreSQL follow it like any commit.
 *
 * The embedded store (PGlite) is locked by a running manager: stop it first (the
 * lock error says so). PostgreSQL may be written while managers run.
 */
import { userInfo } from 'node:os';
import { VnpError } from '../model/errors.js';
import { openStore, type StoreSettings } from '../store/index.js';
import type { Store } from '../store/index.js';
import type { Role } from './auth.js';
import { createToken, type CreatedToken, type TokenContext } from './tokens.js';

/** Commit attempts when running managers keep moving the revision. */
const AUDIT_ATTEMPTS = 10;

/** The audit actor of an offline command: the operating-system user who ran it. */
export function offlineActor(): string {
  try {
    return `offline:${userInfo().username}`;
  } catch {
    // No passwd entry (containers): the uid is still something.
    return `offline:${String(process.getuid?.() ?? 'unknown')}`;
  }
}

/** A TokenContext straight over a store: audit entries are empty batches. */
function storeContext(store: Store, now: () => number): TokenContext {
  return {
    store,
    now,
    async audit({ actor, action }) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await store.commit({
            baseRevision: await store.revision(),
            actor,
            action,
            puts: [],
            deletes: [],
            at: new Date(now()).toISOString(),
          });
        } catch (e) {
          // Another manager committed in between: take the new revision and retry.
          if (
            !(e instanceof VnpError) ||
            e.code !== 'VNP_ERR_CONFLICT' ||
            attempt >= AUDIT_ATTEMPTS
          )
            throw e;
        }
      }
    },
  };
}

/**
 * Create a token directly in the configured store; returns the only copy of its secret.
 *
 * @example
 *   const t = await createTokenOffline({ dataDir: '/var/lib/vnp' }, { role: 'admin' });
 */
export async function createTokenOffline(
  settings: StoreSettings,
  req: { role: Role; host?: string; ttlMs?: number },
  opts: { now?: () => number; actor?: string } = {},
): Promise<CreatedToken> {
  const store = await openStore(settings);
  try {
    const ctx = storeContext(store, opts.now ?? Date.now);
    return await createToken(ctx, req, opts.actor ?? offlineActor());
  } finally {
    await store.close();
  }
}
