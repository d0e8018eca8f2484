/**
 * `GET|PUT /v1/settings`: the singleton Settings document `default`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { DEFAULT_SETTINGS } from '../../model/types.js';
import { actorOf } from '../auth.js';
import { resourceFromBody } from '../documents.js';
import { resourceBody } from '../schemas.js';
import type { ManagerPluginOptions } from './plugin-options.js';
import { writeOne, writtenDoc } from './resource-writes.js';

/**
 * Settings routes.
 *
 * @example
 *   await app.register(settingsRoutes, { manager });
 */
export const settingsRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  const tags = ['settings'];
  app.get(
    '/v1/settings',
    { config: { access: 'read' }, schema: { tags, summary: 'The manager-wide defaults' } },
    async () => {
      const held = manager.engine.get('Settings', 'default') ?? {
        kind: 'Settings',
        ...DEFAULT_SETTINGS,
      };
      // Never written: the built-in defaults, as of revision 0 (before any change).
      return held.revision === undefined ? { ...held, revision: 0 } : held;
    },
  );

  app.put(
    '/v1/settings',
    {
      config: { access: 'admin', write: true },
      schema: { tags, summary: 'Replace the defaults', body: resourceBody('Settings') },
    },
    async (request) => {
      const doc = resourceFromBody('Settings', request.body, 'default');
      const w = await writeOne(
        manager,
        actorOf(request.principal),
        'put',
        'Settings',
        'default',
        () => doc,
      );
      return writtenDoc(w, 'Settings', 'default');
    },
  );
};
