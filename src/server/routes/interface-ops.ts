/**
 * Operator routes on interface records: attach, detach and tag changes
 * (design.md §5). Each is one write of the whole record, planned under the lock
 * from its current state, so concurrent tag changes never lose each other.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { VnpError } from '../../model/errors.js';
import { stripMeta } from '../../model/strip-meta.js';
import { validateTagKey, validateTags } from '../../model/tags.js';
import type { Document, HeldDocument, Interface, Tags } from '../../model/types.js';
import { actorOf } from '../auth.js';
import { resourceFromBody } from '../documents.js';
import { AttachBody, NameParams, TagsPatchBody } from '../schemas.js';
import type { ManagerPluginOptions } from './plugin-options.js';
import { notFound, writeOne, writtenDoc } from './resource-writes.js';

type InterfaceDoc = Interface & { kind: 'Interface' };

/** Rebuild an interface record from its stored form with `edit` applied, re-validated. */
function edited(
  current: HeldDocument | undefined,
  name: string,
  edit: (d: InterfaceDoc) => void,
): Document {
  if (!current) throw notFound('Interface', name);
  const doc = structuredClone(stripMeta(current)) as unknown as InterfaceDoc;
  edit(doc);
  return resourceFromBody('Interface', doc, name);
}

/**
 * Apply `{set, remove}` to tags; a key both set and removed is a contradiction.
 *
 * @example
 *   patchTags({ a: '1', b: '2' }, { set: { c: true }, remove: ['a'] }) // { b: '2', c: true }
 */
export function patchTags(tags: Tags, patch: { set?: Tags; remove?: string[] }): Tags {
  const out: Tags = { ...tags };
  const set = patch.set ? validateTags(patch.set, 'set') : {};
  for (const [i, key] of (patch.remove ?? []).entries()) {
    validateTagKey(key, `remove[${i}]`);
    if (key in set) {
      throw new VnpError('VNP_ERR_VALIDATION', `remove[${i}]: tag ${key} is both set and removed`, {
        field: `remove[${i}]`,
      });
    }
    delete out[key];
  }
  for (const [key, value] of Object.entries(set)) {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * One operator action on an interface record: the whole record rewritten under the lock
 * from its current state with `edit` applied, and the written record answered.
 */
async function editInterface(
  manager: ManagerPluginOptions['manager'],
  request: FastifyRequest,
  action: string,
  edit: (doc: InterfaceDoc) => void,
) {
  const { name } = request.params as { name: string };
  const written = await writeOne(
    manager,
    actorOf(request.principal),
    action,
    'Interface',
    name,
    (current) => edited(current, name, edit),
  );
  return writtenDoc(written, 'Interface', name);
}

/**
 * Attach, detach and tag routes.
 *
 * @example
 *   await app.register(interfaceOpsRoutes, { manager });
 */
export const interfaceOpsRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  const tags = ['interfaces'];

  app.post(
    '/v1/interfaces/:name/attach',
    {
      config: { access: 'operate', write: true },
      schema: {
        tags,
        summary: 'Attach a record to an instance (moves it if attached elsewhere)',
        params: NameParams,
        body: AttachBody,
      },
    },
    async (request) => {
      const { instance } = request.body as { instance: string };
      return editInterface(manager, request, 'attach', (doc) => {
        doc.instance = instance;
      });
    },
  );

  app.post(
    '/v1/interfaces/:name/detach',
    {
      config: { access: 'operate', write: true },
      schema: { tags, summary: 'Detach a record from its instance (no body)', params: NameParams },
    },
    async (request) =>
      editInterface(manager, request, 'detach', (doc) => {
        delete doc.instance;
      }),
  );

  app.patch(
    '/v1/interfaces/:name/tags',
    {
      config: { access: 'operate', write: true },
      schema: {
        tags,
        summary: 'Set and remove tags of a record',
        params: NameParams,
        body: TagsPatchBody,
      },
    },
    async (request) => {
      const patch = request.body as { set?: Tags; remove?: string[] };
      return editInterface(manager, request, 'tag', (doc) => {
        doc.tags = patchTags(doc.tags ?? {}, patch);
      });
    },
  );
};
