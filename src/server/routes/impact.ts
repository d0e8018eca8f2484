/**
 * Impact questions (design.md §5 extension, docs/reactions.md):
 * `POST /v1/impact {documents, deletes?}` — the flows a batch would flip, without
 * applying it — and `GET /v1/who-can-reach?dst=&proto=&port=` — the identities and
 * outside-address classes allowed to reach a record.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseTimeBound } from '../flows/flow-filter.js';
import { replayFlows } from '../flows/flow-replay.js';
import type { Engine } from '../../engine/index.js';
import { previewImpact, whoCanReach, type ImpactPreview } from '../../engine/index.js';
import type { Change } from '../../engine/index.js';
import { fieldError } from '../../model/errors.js';
import { refuseIcmpPort } from '../../model/check.js';
import { KINDS, PROTOCOLS, type Kind, type Protocol } from '../../model/types.js';
import { documentFromApply } from '../documents.js';
import {
  IMPACT_MAX_CHANGES,
  IMPACT_MAX_LIMIT,
  impactRunner,
  type ImpactSnapshot,
  snapshotForImpact,
} from '../impact-preview.js';
import type { ManagerPluginOptions } from './plugin-options.js';

/**
 * The impact of changes on a model, on a fork (the model is untouched).
 *
 * @example impactOfChanges(manager.engine, [{ op: 'put', doc }], manager.now())
 */
export function impactOfChanges(
  engine: Engine,
  changes: Change[],
  now: number,
  limit = 1000,
): ImpactPreview {
  const after = engine.fork();
  after.apply(changes, now);
  return previewImpact(engine, after, { limit });
}

const ImpactBody = Type.Object(
  {
    documents: Type.Array(
      Type.Object({ kind: Type.String(), name: Type.String() }, { additionalProperties: true }),
      { maxItems: IMPACT_MAX_CHANGES },
    ),
    deletes: Type.Optional(
      Type.Array(
        Type.Object({ kind: Type.String(), name: Type.String() }, { additionalProperties: false }),
        { maxItems: IMPACT_MAX_CHANGES },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: IMPACT_MAX_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
    againstFlows: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          'Also replay the flows observed in this window (a duration ago, e.g. 1h, or an ISO time) through the change (docs/flows.md)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The changes of an impact request; at most IMPACT_MAX_CHANGES puts and deletes together. */
function impactChanges(documents: unknown[], deletes: { kind: string; name: string }[]): Change[] {
  if (documents.length + deletes.length > IMPACT_MAX_CHANGES) {
    throw fieldError(
      'documents',
      `at most ${IMPACT_MAX_CHANGES} documents and deletes together`,
      documents.length + deletes.length,
    );
  }
  const changes: Change[] = [];
  documents.forEach((raw, i) => {
    const { doc } = documentFromApply(raw, i);
    if (doc) changes.push({ op: 'put', doc });
  });
  deletes.forEach((d, i) => {
    if (!KINDS.includes(d.kind as Kind)) {
      throw fieldError(`deletes[${i}].kind`, `one of ${KINDS.join(', ')}`, d.kind);
    }
    changes.push({ op: 'delete', kind: d.kind as Kind, name: d.name });
  });
  return changes;
}

const ReachQuery = Type.Object(
  {
    dst: Type.String({ minLength: 1 }),
    proto: Type.Optional(Type.String()),
    port: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  },
  { additionalProperties: false },
);

/**
 * The impact plugin.
 *
 * @example await app.register(impactRoutes, { manager });
 */
export const impactRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  app.post(
    '/v1/impact',
    {
      config: { access: 'read' },
      schema: {
        tags: ['check'],
        summary: 'Flows a batch (puts and deletes) would flip, without applying it',
        body: ImpactBody,
      },
    },
    async (request) => {
      const body = request.body as {
        documents: unknown[];
        deletes?: { kind: string; name: string }[];
        limit?: number;
        offset?: number;
        againstFlows?: string;
      };
      const changes = impactChanges(body.documents, body.deletes ?? []);
      const since =
        body.againstFlows === undefined
          ? undefined
          : parseTimeBound(body.againstFlows, 'againstFlows', manager.now());
      let snap: ImpactSnapshot | undefined;
      // Revision, diff and snapshot are taken together, once this preview's turn comes.
      let revision = 0;
      let diff: ReturnType<Engine['diff']> = [];
      const impact = await impactRunner(manager).preview(
        () => {
          revision = manager.revision;
          diff = manager.engine.diff(changes).filter((d) => d.op !== 'unchanged');
          snap = snapshotForImpact(manager.engine, changes, manager.now());
          return snap;
        },
        { ...(body.limit ? { limit: body.limit } : {}), offset: body.offset ?? 0 },
      );
      const againstFlows =
        since !== undefined && snap ? await replayFlows(manager.store, snap, since) : undefined;
      return { revision, diff, impact, ...(againstFlows ? { againstFlows } : {}) };
    },
  );

  app.get(
    '/v1/who-can-reach',
    {
      config: { access: 'read' },
      schema: {
        tags: ['check'],
        summary: 'Identities and outside-address classes allowed to reach a record',
        querystring: ReachQuery,
      },
    },
    async (request) => {
      const q = request.query as { dst: string; proto?: string; port?: string };
      if (q.proto !== undefined && !PROTOCOLS.includes(q.proto as Protocol)) {
        throw fieldError('proto', `one of ${PROTOCOLS.join(', ')}`, q.proto);
      }
      const port = q.port === undefined ? undefined : Number(q.port);
      if (port !== undefined && (port < 1 || port > 65535)) {
        throw fieldError('port', 'a port 1..65535', port);
      }
      refuseIcmpPort(q.proto, port);
      const sources = whoCanReach(manager.engine, q.dst, {
        ...(q.proto ? { proto: q.proto as Protocol } : {}),
        ...(port !== undefined ? { port } : {}),
      });
      return { dst: q.dst, sources };
    },
  );
};
