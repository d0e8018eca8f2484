/**
 * What the manager says about itself to any caller with a token: `GET /v1/version`
 * (for `vnp version`) and `GET /v1/auth/can-i?verb=&resource=[&host=]` (for
 * `vnp auth can-i`), answered from the route-access table the auth middleware and the
 * auth-matrix test use.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { API_VERSION, VERSION } from '../../model/version.js';
import type { Manager } from '../manager.js';
import { canI } from '../can-i.js';
import type { RouteAccessTable } from '../route-access.js';

const CanIQuery = Type.Object(
  {
    verb: Type.String({
      minLength: 1,
      maxLength: 16,
      description: 'get, list, watch, create, update, patch, delete, * or an HTTP method',
    }),
    resource: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'interfaces, interfaces/tags, tokens, hosts/ack, …',
    }),
    host: Type.Optional(
      Type.String({ minLength: 1, maxLength: 253, description: 'for /v1/hosts/{host}/…' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Version and can-i routes.
 *
 * @example
 *   await app.register(aboutRoutes, { manager, access });
 */
export const aboutRoutes: FastifyPluginAsync<{
  manager: Manager;
  access: RouteAccessTable;
}> = async (app, { manager, access }) => {
  app.get(
    '/v1/version',
    {
      config: { access: 'agent' },
      schema: { tags: ['about'], summary: 'The manager’s version, API version, Node.js and store' },
    },
    async () => ({
      version: VERSION,
      api: API_VERSION,
      node: process.version,
      backend: manager.store.backend,
    }),
  );

  app.get(
    '/v1/auth/can-i',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['about'],
        summary: 'May the calling token do VERB on RESOURCE (from the route-access table)?',
        querystring: CanIQuery,
      },
    },
    async (request) => {
      const q = request.query as { verb: string; resource: string; host?: string };
      return canI(access.routes(), request.principal!, q.verb, q.resource, q.host);
    },
  );
};
