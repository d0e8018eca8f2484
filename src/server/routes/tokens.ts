/**
 * `POST|GET /v1/tokens`, `POST /v1/tokens/{id}/rotate`, `DELETE /v1/tokens/{id}`
 * (admin only).
 */
import type { FastifyPluginAsync } from 'fastify';
import { parseDuration } from '../../model/duration.js';
import { actorOf, type Role, type TokenAuthenticator } from '../auth.js';
import type { Manager } from '../manager.js';
import { IdParams, TokenCreateBody, TokenRotateBody } from '../schemas.js';
import type { TokenUses } from '../token-uses.js';
import {
  MAX_GRACE_MS,
  MAX_TTL_MS,
  createToken,
  listTokens,
  revokeToken,
  rotateToken,
} from '../tokens.js';

export interface TokenPluginOptions {
  manager: Manager;
  auth: TokenAuthenticator;
  uses: TokenUses;
}

/** The rotation grace when none is given. */
const DEFAULT_GRACE = '1h';

const ttlOf = (ttl: string | undefined): { ttlMs?: number } =>
  ttl === undefined ? {} : { ttlMs: parseDuration(ttl, 'ttl', { min: 1000, max: MAX_TTL_MS }) };

/**
 * Token routes.
 *
 * @example
 *   await app.register(tokenRoutes, { manager, auth, uses });
 */
export const tokenRoutes: FastifyPluginAsync<TokenPluginOptions> = async (
  app,
  { manager, auth, uses },
) => {
  const tags = ['tokens'];
  app.post(
    '/v1/tokens',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Create a token (the secret is shown once)', body: TokenCreateBody },
    },
    async (request, reply) => {
      const body = request.body as { role: Role; host?: string; ttl?: string };
      const req = {
        role: body.role,
        ...(body.host !== undefined ? { host: body.host } : {}),
        ...ttlOf(body.ttl),
      };
      return reply.status(201).send(await createToken(manager, req, actorOf(request.principal)));
    },
  );

  app.get(
    '/v1/tokens',
    { config: { access: 'admin' }, schema: { tags, summary: 'List tokens (no secrets)' } },
    async () => ({ items: uses.withPending(await listTokens(manager)) }),
  );

  app.post(
    '/v1/tokens/:id/rotate',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'A new secret (new id, same role and host); the old one expires after `grace`',
        params: IdParams,
        body: TokenRotateBody,
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as { grace?: string; ttl?: string };
      const graceMs = parseDuration(body.grace ?? DEFAULT_GRACE, 'grace', { max: MAX_GRACE_MS });
      const rotated = await rotateToken(
        manager,
        id,
        { graceMs, ...ttlOf(body.ttl) },
        actorOf(request.principal),
      );
      // Cached verifications of the old token carry its old expiry: re-read it now.
      auth.forget(id);
      return reply.status(201).send(rotated);
    },
  );

  app.delete(
    '/v1/tokens/:id',
    { config: { access: 'admin' }, schema: { tags, summary: 'Revoke a token', params: IdParams } },
    async (request) => {
      const { id } = request.params as { id: string };
      await revokeToken(manager, id, actorOf(request.principal));
      // Closes the token's open streams here now (other managers: within their re-check).
      auth.revoked(id);
      return { revoked: id };
    },
  );
};
