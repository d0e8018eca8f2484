/**
 * Token lifecycle: create (secret shown once, scrypt hash stored, optional TTL),
 * list (no secrets, no hashes; last use), rotate (a new secret under a new id, the
 * old one valid for a grace period), revoke (never the last live admin). Each is
 * audited as an empty batch in the change log whose `action` carries the details
 * (never the secret).
 */
import { VnpError } from '../model/errors.js';
import { formatDuration } from '../model/duration.js';
import type { Store, TokenRecord } from '../store/index.js';
import type { Role } from './auth.js';
import { hashSecret, newToken } from './token-secret.js';

/** A token as listed: everything but the hash. */
export type TokenInfo = Omit<TokenRecord, 'hash'>;

/** What token operations need: the store, a clock and the audit log. */
export interface TokenContext {
  store: Store;
  now(): number;
  audit(ctx: { actor: string; action: string }): Promise<unknown>;
}

/** A created token: the only copy of its secret. */
export interface CreatedToken {
  id: string;
  token: string;
  role: Role;
  host?: string;
  expiresAt?: string;
}

/** Longest token lifetime and rotation grace accepted (ten years, thirty days). */
export const MAX_TTL_MS = 10 * 365 * 86_400_000;
export const MAX_GRACE_MS = 30 * 86_400_000;

/**
 * Create a token; returns the only copy of the secret.
 *
 * @example
 *   const { id, token } = await createToken(manager, { role: 'viewer', ttlMs: 3_600_000 }, 'admin:ab12');
 */
export async function createToken(
  ctx: TokenContext,
  req: { role: Role; host?: string; ttlMs?: number },
  actor: string,
  why = 'token.create',
): Promise<CreatedToken> {
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
  const now = ctx.now();
  const expiresAt = req.ttlMs !== undefined ? new Date(now + req.ttlMs).toISOString() : undefined;
  const record: TokenRecord = {
    id,
    role: req.role,
    ...(req.host ? { host: req.host } : {}),
    hash: await hashSecret(secret),
    createdAt: new Date(now).toISOString(),
    createdBy: actor,
    ...(expiresAt ? { expiresAt } : {}),
  };
  // Audit first: a token must never exist without its audit entry.
  await ctx.audit({
    actor,
    action:
      `${why} id=${id} role=${req.role}${req.host ? ` host=${req.host}` : ''}` +
      (req.ttlMs !== undefined ? ` ttl=${formatDuration(req.ttlMs)}` : ''),
  });
  await ctx.store.putToken(record);
  return {
    id,
    token,
    role: req.role,
    ...(req.host ? { host: req.host } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  };
}

/**
 * Every token, without hashes.
 *
 * @example
 *   (await listTokens(manager)).map((t) => t.id)
 */
export async function listTokens(ctx: TokenContext): Promise<TokenInfo[]> {
  const all = await ctx.store.listTokens();
  return all.map(({ hash: _hash, ...info }) => info);
}

/** The token, live (not revoked, not expired) at `now`; 404 or 409 otherwise. */
async function liveToken(ctx: TokenContext, id: string): Promise<TokenRecord> {
  const token = await ctx.store.getToken(id);
  if (!token)
    throw new VnpError('VNP_ERR_NOT_FOUND', `no token with id ${id}`, { field: 'id', id });
  if (token.revokedAt || (token.expiresAt && Date.parse(token.expiresAt) <= ctx.now())) {
    throw new VnpError('VNP_ERR_CONFLICT', `token ${id} is revoked or expired`, {
      field: 'id',
      id,
    });
  }
  return token;
}

/**
 * Rotate a token: a new token (new id and secret) with the same role and host; the
 * old secret keeps working for `graceMs` (0: not at all), then expires. Returns the
 * new token.
 *
 * @example
 *   const fresh = await rotateToken(manager, 'cd34', { graceMs: 3_600_000 }, 'admin:ab12');
 */
export async function rotateToken(
  ctx: TokenContext,
  id: string,
  opts: { graceMs: number; ttlMs?: number },
  actor: string,
): Promise<CreatedToken & { replaces: string; oldExpiresAt: string }> {
  const old = await liveToken(ctx, id);
  const created = await createToken(
    ctx,
    {
      role: old.role,
      ...(old.host ? { host: old.host } : {}),
      ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
    },
    actor,
    `token.rotate replaces=${id} grace=${formatDuration(opts.graceMs)}`,
  );
  const oldExpiresAt = new Date(ctx.now() + opts.graceMs).toISOString();
  await ctx.store.expireToken(id, oldExpiresAt);
  const after = await ctx.store.getToken(id);
  return { ...created, replaces: id, oldExpiresAt: after?.expiresAt ?? oldExpiresAt };
}

/**
 * Revoke a token; 404 when unknown; VNP_ERR_LAST_ADMIN for the last live admin
 * token (the store checks again under its lock, for concurrent revocations).
 *
 * @example
 *   await revokeToken(manager, 'cd34', 'admin:ab12');
 */
export async function revokeToken(ctx: TokenContext, id: string, actor: string): Promise<void> {
  const existing = await ctx.store.getToken(id);
  if (!existing)
    throw new VnpError('VNP_ERR_NOT_FOUND', `no token with id ${id}`, { field: 'id', id });
  if (existing.revokedAt) return;
  if (existing.role === 'admin') await refuseLastAdmin(ctx, id);
  await ctx.audit({ actor, action: `token.revoke id=${id} role=${existing.role}` });
  await ctx.store.revokeToken(id, new Date(ctx.now()).toISOString());
}

/** Before auditing a revocation: would it leave no live admin token? */
async function refuseLastAdmin(ctx: TokenContext, id: string): Promise<void> {
  const now = ctx.now();
  const others = (await ctx.store.listTokens()).filter(
    (token) =>
      token.role === 'admin' &&
      token.id !== id &&
      !token.revokedAt &&
      (!token.expiresAt || Date.parse(token.expiresAt) > now),
  );
  if (others.length === 0) {
    throw new VnpError(
      'VNP_ERR_LAST_ADMIN',
      `token ${id} is the last live admin token: create another admin token first (recovery without one: vnp token create --role admin --data-dir DIR on the manager's host)`,
      { field: 'id', id },
    );
  }
}

/**
 * On first start (no token at all), create an admin token; returns it once.
 *
 * @example
 *   const first = await ensureAdminToken(manager); // undefined after the first start
 */
export async function ensureAdminToken(
  ctx: TokenContext,
): Promise<{ id: string; token: string } | undefined> {
  if ((await ctx.store.listTokens()).length > 0) return undefined;
  const { id, token } = await createToken(ctx, { role: 'admin' }, 'system:bootstrap');
  return { id, token };
}
