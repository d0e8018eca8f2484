/**
 * Token lifecycle: create (secret shown once, scrypt hash stored), list (no
 * secrets, no hashes), revoke. Each is audited as an empty batch in the change
 * log whose `action` carries the details (never the secret).
 */
import { VnpError } from '../model/errors.js';
import type { TokenRecord } from '../store/types.js';
import type { Role } from './auth.js';
import type { Manager } from './manager.js';
import { hashSecret, newToken } from './token-secret.js';

/** A token as listed: everything but the hash. */
export type TokenInfo = Omit<TokenRecord, 'hash'>;

/**
 * Create a token; returns the only copy of the secret.
 *
 * @example
 *   const { id, token } = await createToken(manager, { role: 'viewer' }, 'admin:ab12');
 */
export async function createToken(
  manager: Manager,
  req: { role: Role; host?: string },
  actor: string,
): Promise<{ id: string; token: string; role: Role; host?: string }> {
  if (req.role === 'agent' && !req.host) {
    throw new VnpError('VNP_ERR_VALIDATION', 'host: an agent token needs the host it serves', {
      field: 'host',
    });
  }
  if (req.role !== 'agent' && req.host) {
    throw new VnpError('VNP_ERR_VALIDATION', 'host: only agent tokens are bound to a host', {
      field: 'host',
    });
  }
  const { id, secret, token } = newToken();
  const record: TokenRecord = {
    id,
    role: req.role,
    ...(req.host ? { host: req.host } : {}),
    hash: await hashSecret(secret),
    createdAt: new Date(manager.now()).toISOString(),
    createdBy: actor,
  };
  // Audit first: a token must never exist without its audit entry.
  await manager.audit({
    actor,
    action: `token.create id=${id} role=${req.role}${req.host ? ` host=${req.host}` : ''}`,
  });
  await manager.store.putToken(record);
  return { id, token, role: req.role, ...(req.host ? { host: req.host } : {}) };
}

/**
 * Every token, without hashes.
 *
 * @example
 *   (await listTokens(manager)).map((t) => t.id)
 */
export async function listTokens(manager: Manager): Promise<TokenInfo[]> {
  const all = await manager.store.listTokens();
  return all.map(({ hash: _hash, ...info }) => info);
}

/**
 * Revoke a token; 404 when unknown.
 *
 * @example
 *   await revokeToken(manager, 'cd34', 'admin:ab12');
 */
export async function revokeToken(manager: Manager, id: string, actor: string): Promise<void> {
  const existing = await manager.store.getToken(id);
  if (!existing)
    throw new VnpError('VNP_ERR_NOT_FOUND', `no token with id ${id}`, { field: 'id', id });
  if (existing.revokedAt) return;
  await manager.audit({ actor, action: `token.revoke id=${id} role=${existing.role}` });
  await manager.store.revokeToken(id, new Date(manager.now()).toISOString());
}

/**
 * On first start (no token at all), create an admin token; returns it once.
 *
 * @example
 *   const first = await ensureAdminToken(manager); // undefined after the first start
 */
export async function ensureAdminToken(
  manager: Manager,
): Promise<{ id: string; token: string } | undefined> {
  if ((await manager.store.listTokens()).length > 0) return undefined;
  const { id, token } = await createToken(manager, { role: 'admin' }, 'system:bootstrap');
  return { id, token };
}
