/**
 * `GET /v1/peps`: enforcement points and how far behind they are:
 * `{items: [{host, connected, appliedRevision, sentRevision, lag, lastContact, underlay, kind}]}`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PepRegistry, PepStatus } from '../distribution/pep-registry.js';
import type { Manager } from '../manager.js';

/**
 * PEP status routes.
 *
 * @example
 *   await app.register(pepRoutes, { manager, peps });
 */
export const pepRoutes: FastifyPluginAsync<{ manager: Manager; peps: PepRegistry }> = async (
  app,
  { manager, peps },
) => {
  app.get(
    '/v1/peps',
    {
      config: { access: 'agent' },
      schema: { tags: ['peps'], summary: 'Enforcement points and their lag' },
    },
    async (): Promise<{ items: PepStatus[] }> => ({ items: peps.list(manager.revision) }),
  );
};
