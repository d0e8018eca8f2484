/**
 * Read-only questions about the model: `POST /v1/check` (a verdict, explained)
 * and `POST /v1/policy-for-tags` (the merged rule set for a tag set).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { CheckRequest } from '../../engine/index.js';
import { refuseIcmpPort } from '../../model/check.js';
import { validateTags } from '../../model/tags.js';
import { CheckBody, PolicyForTagsBody } from '../schemas.js';
import type { ManagerPluginOptions } from './plugin-options.js';

/**
 * Check and policy-for-tags routes.
 *
 * @example
 *   await app.register(queryRoutes, { manager });
 */
export const queryRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  app.post(
    '/v1/check',
    {
      config: { access: 'read' },
      schema: { tags: ['check'], summary: 'Judge a flow and explain the verdict', body: CheckBody },
    },
    async (request) => {
      const req = request.body as CheckRequest;
      refuseIcmpPort(req.protocol, req.port);
      return manager.engine.check(req);
    },
  );

  app.post(
    '/v1/policy-for-tags',
    {
      config: { access: 'read' },
      schema: {
        tags: ['check'],
        summary: 'The merged, ordered rule set for a record with these tags',
        body: PolicyForTagsBody,
      },
    },
    async (request) =>
      manager.engine.getPolicyForTags(
        validateTags((request.body as { tags: unknown }).tags, 'tags'),
      ),
  );
};
