/**
 * `POST|GET /v1/tokens`, `DELETE /v1/tokens/{id}` (admin only).
 */
import type { FastifyPluginAsync } from 'fastify';
import { actorOf, type Role, type TokenAuthenticator } from '../auth.js';
import type { Manager } from '../manager.js';
import { IdParams, TokenCreateBody } from '../schemas.js';
import { createToken, listTokens, revokeToken } from '../tokens.js';

export interface TokenPluginOptions {
  manager: Manager;
  auth: TokenAuthenticator;
}

/**
 * Token routes.
 *
 * @example
 *   await app.register(tokenRoutes, { manager, auth });
 */
export const tokenRoutes: FastifyPluginAsync<TokenPluginOptions> = async (
  app,
  { manager, auth },
) => {
  const tags = ['tokens'];
  app.post(
    '/v1/tokens',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Create a token (the secret is shown once)', body: TokenCreateBody },
    },
    async (request, reply) => {
      const body = request.body as { role: Role; host?: string };
      return reply.status(201).send(await createToken(manager, body, actorOf(request.principal)));
    },
  );

  app.get(
    '/v1/tokens',
    { config: { access: 'admin' }, schema: { tags, summary: 'List tokens (no secrets)' } },
    async () => ({
      items: await listTokens(manager),
    }),
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
