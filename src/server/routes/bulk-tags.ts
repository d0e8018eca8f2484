/**
 * `POST /v1/tags {selector, set?, remove?, dryRun?, limit?}`: set and remove tags
 * on every interface record the selector matches, as ONE revision (`vnp tag -l`,
 * like `kubectl label -l`). Planned under the write lock from the current model:
 * the records matched, the ones whose tags really change (the rest are left alone;
 * when none changes, nothing is committed), and the flows that flip.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Change } from '../../engine/index.js';
import { stripMeta } from '../../model/strip-meta.js';
import type { Interface, Tags } from '../../model/types.js';
import { actorOf } from '../auth.js';
import { resourceFromBody } from '../documents.js';
import { impactOfChanges } from './impact.js';
import { patchTags } from './interface-ops.js';
import type { ManagerPluginOptions } from './plugin-options.js';

export const BulkTagsBody = Type.Object(
  {
    selector: Type.String({ minLength: 1, description: 'records whose tags match (selectors.md)' }),
    set: Type.Optional(Type.Object({}, { additionalProperties: true })),
    remove: Type.Optional(Type.Array(Type.String())),
    dryRun: Type.Optional(Type.Boolean()),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, description: 'most impact rows (default 1000)' }),
    ),
  },
  { additionalProperties: false, title: 'BulkTagsRequest' },
);

type Body = { selector: string; set?: Tags; remove?: string[]; dryRun?: boolean; limit?: number };

/**
 * The bulk tag plugin.
 *
 * @example await app.register(bulkTagRoutes, { manager });
 */
export const bulkTagRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  app.post(
    '/v1/tags',
    {
      config: { access: 'operate', write: true },
      schema: {
        tags: ['interfaces'],
        summary: 'Set and remove tags on every record a selector matches, as one revision',
        body: BulkTagsBody,
      },
    },
    async (request) => {
      const body = request.body as Body;
      const { record, result } = await manager.write(
        {
          actor: actorOf(request.principal),
          action: `tag -l ${body.selector}`,
        },
        (engine) => {
          const matched = engine.select(body.selector);
          const changes: Change[] = [];
          for (const name of matched) {
            const cur = stripMeta(engine.get('Interface', name)!) as unknown as Interface;
            const tags = patchTags(cur.tags ?? {}, body);
            const doc = resourceFromBody('Interface', { ...cur, kind: 'Interface', tags }, name);
            const change = { op: 'put' as const, doc };
            if (engine.diff([change])[0]?.op !== 'unchanged') changes.push(change);
          }
          const impact =
            changes.length > 0
              ? impactOfChanges(engine, changes, manager.now(), body.limit)
              : { rows: [], truncated: 0, pairs: 0 };
          const changed = changes.map((c) => (c.op === 'put' ? c.doc.name : c.name));
          return {
            changes,
            result: { matched, changed, impact },
            commit: body.dryRun !== true && changes.length > 0,
          };
        },
      );
      return {
        ...(body.dryRun === true ? { dryRun: true } : {}),
        revision: record?.revision ?? manager.revision,
        ...result,
      };
    },
  );
};
