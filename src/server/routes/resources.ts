/**
 * CRUD routes of the six named kinds: `GET|POST /v1/<plural>` and
 * `GET|PUT|PATCH|DELETE /v1/<plural>/{name}` (design.md §5).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { VnpError } from '../../model/errors.js';
import { stripMeta } from '../../model/strip-meta.js';
import { KIND_PLURAL } from '../../model/types.js';
import { actorOf } from '../auth.js';
import { resourceFromBody } from '../documents.js';
import type { Manager } from '../manager.js';
import { mergePatch } from '../merge-patch.js';
import { ListQuery, MergePatch, NameParams, queryInt, resourceBody } from '../schemas.js';
import type { ManagerPluginOptions } from './plugin-options.js';
import { mustGet, notFound, storedOf, writeOne, writtenDoc } from './resource-writes.js';

/** The kinds with collection routes (Settings is a singleton: see settings.ts). */
export const COLLECTION_KINDS = [
  'Subnet',
  'Instance',
  'Interface',
  'Partition',
  'Policy',
  'Reaction',
] as const;

/**
 * One page of a sorted list: items after `after`, at most `limit`; `next` when more remain;
 * `total` counts the whole list (every page), so a client can show counts and progress
 * from the first page (the web UI's first paint).
 *
 * @example
 *   page([{ name: 'a' }, { name: 'b' }], 1) // { items: [{ name: 'a' }], next: 'a', total: 2 }
 */
export function page<T extends { name: string }>(
  all: T[],
  limit: number,
  after?: string,
): { items: T[]; next?: string; total: number } {
  const start = after === undefined ? 0 : all.findIndex((d) => d.name > after);
  const rest = start < 0 ? [] : all.slice(start);
  const items = rest.slice(0, limit);
  const total = all.length;
  return rest.length > limit
    ? { items, next: items[items.length - 1]!.name, total }
    : { items, total };
}

function registerKind(
  app: FastifyInstance,
  manager: Manager,
  kind: (typeof COLLECTION_KINDS)[number],
): void {
  const base = `/v1/${KIND_PLURAL[kind]}`;
  const tags = [KIND_PLURAL[kind]];
  const body = resourceBody(kind);

  app.get(
    base,
    {
      config: { access: 'read' },
      schema: { tags, summary: `List ${kind} resources`, querystring: ListQuery },
    },
    async (request) => {
      const q = request.query as { limit?: string; after?: string; selector?: string };
      let all = manager.engine.list(kind);
      if (q.selector !== undefined) {
        if (kind !== 'Interface') {
          throw new VnpError(
            'VNP_ERR_VALIDATION',
            'selector: only interfaces can be filtered by selector',
            {
              field: 'selector',
              in: 'querystring',
            },
          );
        }
        const names = new Set(manager.engine.select(q.selector));
        all = all.filter((d) => names.has(d.name));
      }
      return page(all, queryInt(q.limit, 100, 1000) || 1, q.after);
    },
  );

  app.post(
    base,
    {
      config: { access: 'admin', write: true },
      schema: { tags, summary: `Create a ${kind}`, body },
    },
    async (request, reply) => {
      const doc = resourceFromBody(kind, request.body);
      const { record } = await writeOne(
        manager,
        actorOf(request.principal),
        'create',
        kind,
        doc.name,
        (current) => {
          if (current) {
            throw new VnpError(
              'VNP_ERR_ALREADY_EXISTS',
              `${kind} ${doc.name} exists already (PUT replaces)`,
              {
                kind,
                name: doc.name,
              },
            );
          }
          return doc;
        },
      );
      return reply.status(201).send(storedOf(record, kind, doc.name));
    },
  );

  app.get(
    `${base}/:name`,
    { config: { access: 'read' }, schema: { tags, summary: `Get a ${kind}`, params: NameParams } },
    async (request) => mustGet(manager.engine, kind, (request.params as { name: string }).name),
  );

  app.put(
    `${base}/:name`,
    {
      config: { access: 'admin', write: true },
      schema: { tags, summary: `Create or replace a ${kind}`, params: NameParams, body },
    },
    async (request, reply) => {
      const { name } = request.params as { name: string };
      const doc = resourceFromBody(kind, request.body, name);
      const w = await writeOne(manager, actorOf(request.principal), 'put', kind, name, () => doc);
      return reply.status(w.created ? 201 : 200).send(writtenDoc(w, kind, name));
    },
  );

  app.patch(
    `${base}/:name`,
    {
      config: { access: 'admin', write: true },
      schema: {
        tags,
        summary: `Patch a ${kind} (JSON merge patch)`,
        params: NameParams,
        body: MergePatch,
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const w = await writeOne(
        manager,
        actorOf(request.principal),
        'patch',
        kind,
        name,
        (current) => {
          if (!current) throw notFound(kind, name);
          const merged = mergePatch(stripMeta(current), request.body);
          return resourceFromBody(kind, merged, name);
        },
      );
      return writtenDoc(w, kind, name);
    },
  );

  app.delete(
    `${base}/:name`,
    {
      config: { access: 'admin', write: true },
      schema: { tags, summary: `Delete a ${kind}`, params: NameParams },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const { record } = await writeOne(
        manager,
        actorOf(request.principal),
        'delete',
        kind,
        name,
        (current) => {
          if (!current) throw notFound(kind, name);
          return null;
        },
      );
      return { revision: record?.revision ?? manager.revision, deleted: { kind, name } };
    },
  );
}

/**
 * The CRUD plugin for every collection kind.
 *
 * @example
 *   await app.register(resourceRoutes, { manager });
 */
export const resourceRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  for (const kind of COLLECTION_KINDS) registerKind(app, manager, kind);
};
