/**
 * `GET /v1/identities[?record=NAME|selector=SEL]` — like `cilium identity list`: each
 * live identity (design.md §1 Identities) with its identity-relevant tags, the
 * partitions it belongs to, the records holding it and the hosts those records are on.
 * Read from the engine's live tables; nothing is stored.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { VnpError } from '../../model/errors.js';
import type { Tags } from '../../model/types.js';
import type { Engine } from '../../engine/index.js';
import type { ManagerPluginOptions } from './plugin-options.js';

/** One identity as listed. */
export interface IdentityListing {
  id: number;
  tags: Tags;
  partitions: string[];
  /** Names of the records holding it, sorted. */
  records: string[];
  /** Hosts of the instances those records are attached to, sorted (detached records add none). */
  hosts: string[];
}

const IdentitiesQuery = Type.Object(
  {
    record: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, description: 'only the identity of this record' }),
    ),
    selector: Type.Optional(
      Type.String({ description: 'only identities of the records this selector matches' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Group records by identity, ascending by id.
 *
 * @example listIdentities(engine, ['web-1']) // [{ id: 300, tags: {…}, records: ['web-1', …], … }]
 */
export function listIdentities(engine: Engine, only?: readonly string[]): IdentityListing[] {
  const wanted =
    only === undefined ? undefined : new Set(only.map((n) => engine.recordIdentity(n)));
  const byId = new Map<number, IdentityListing>();
  for (const rec of engine.list('Interface')) {
    const id = engine.recordIdentity(rec.name);
    if (id === undefined || (wanted !== undefined && !wanted.has(id))) continue;
    let entry = byId.get(id);
    if (entry === undefined) {
      const info = engine.identityInfo(id);
      entry = {
        id,
        tags: info?.tags ?? {},
        partitions: info?.partitions ?? [],
        records: [],
        hosts: [],
      };
      byId.set(id, entry);
    }
    entry.records.push(rec.name);
    const instance = 'instance' in rec ? rec.instance : undefined;
    const host = instance === undefined ? undefined : engine.get('Instance', instance);
    if (host && 'host' in host && !entry.hosts.includes(host.host)) entry.hosts.push(host.host);
  }
  return [...byId.values()]
    .sort((a, b) => a.id - b.id)
    .map((e) => ({ ...e, records: e.records.sort(), hosts: e.hosts.sort() }));
}

/**
 * Identity routes.
 *
 * @example
 *   await app.register(identityRoutes, { manager });
 */
export const identityRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  app.get(
    '/v1/identities',
    {
      config: { access: 'read' },
      schema: {
        tags: ['identities'],
        summary: 'Live identities: their tags, partitions, records and hosts',
        querystring: IdentitiesQuery,
      },
    },
    async (request) => {
      const q = request.query as { record?: string; selector?: string };
      if (q.record !== undefined && q.selector !== undefined)
        throw new VnpError('VNP_ERR_VALIDATION', 'give record or selector, not both', {
          field: 'selector',
        });
      const engine = manager.engine;
      if (q.record !== undefined && engine.recordIdentity(q.record) === undefined)
        throw new VnpError('VNP_ERR_NOT_FOUND', `no Interface named ${q.record}`, {
          kind: 'Interface',
          name: q.record,
        });
      const only =
        q.record !== undefined
          ? [q.record]
          : q.selector !== undefined
            ? engine.select(q.selector)
            : undefined;
      return { items: listIdentities(engine, only) };
    },
  );
};
