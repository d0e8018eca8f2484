/**
 * `GET /v1/whoami`: the calling token's id, role and host — what a client (the web
 * UI) needs to show only the actions the role may take. Any authenticated token.
 */
import type { FastifyPluginAsync } from 'fastify';

/**
 * Who-am-I route.
 *
 * @example
 *   await app.register(whoamiRoutes);
 */
export const whoamiRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/v1/whoami',
    {
      config: { access: 'agent' },
      schema: { tags: ['tokens'], summary: "The calling token's id, role and host" },
    },
    async (request) => {
      const p = request.principal!;
      return { id: p.id, role: p.role, ...(p.host !== undefined ? { host: p.host } : {}) };
    },
  );
};
