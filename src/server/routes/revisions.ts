/**
 * History, diff and rollback over the change log (docs/reactions.md):
 * `GET /v1/history?limit=`, `GET /v1/diff?from=&to=`, `POST /v1/rollback
 * {revision, dryRun?}`. A rollback restores the POLICY state (policies,
 * partitions, reactions, settings — never records) of a past revision as a NEW
 * revision, audited as `rollback:<rev>`; with dryRun it only previews (diff + impact).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Change } from '../../engine/index.js';
import { VnpError, fieldError } from '../../model/errors.js';
import { DEFAULT_SETTINGS, type Document, type Kind } from '../../model/types.js';
import {
  POLICY_KINDS,
  diffStates,
  stateAt,
  stateOf,
  summarize,
  type DocumentSet,
} from '../../reactions/history.js';
import type { ChangeRecord } from '../../store/index.js';
import { actorOf } from '../auth.js';
import type { Manager } from '../manager.js';
import { LimitQuery, MAX_PAGE, Revision, queryInt } from '../schemas.js';
import { impactOfChanges } from './impact.js';
import type { ManagerPluginOptions } from './plugin-options.js';

const Rev = Type.String({ pattern: '^[0-9]{1,15}$' });

/** Change records after `rev` up to the manager's revision. */
async function recordsAfter(manager: Manager, rev: number, field: string): Promise<ChangeRecord[]> {
  if (rev > manager.revision) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${field}: revision ${rev} is in the future (now ${manager.revision})`,
      {
        field,
      },
    );
  }
  const oldest = await manager.store.oldestRevision();
  if (rev < oldest - 1) {
    throw new VnpError(
      'VNP_ERR_HISTORY_GONE',
      `revision ${rev} is older than the change log (oldest ${oldest})`,
      {
        field,
        oldest,
      },
    );
  }
  const out: ChangeRecord[] = [];
  for (let since = rev; ;) {
    const page = (await manager.store.changesSince(since, 500)).filter(
      (r) => r.revision <= manager.revision,
    );
    if (page.length === 0) return out;
    out.push(...page);
    since = page[page.length - 1]!.revision;
  }
}

/** The state (of `kinds`) at `rev`. */
async function stateAtRevision(
  manager: Manager,
  rev: number,
  field: string,
  kinds?: readonly Kind[],
): Promise<DocumentSet> {
  const current = stateOf(manager.engine.allDocuments(), kinds);
  return stateAt(current, await recordsAfter(manager, rev, field), kinds);
}

/** The changes that turn the current policy state into `target`. */
function rollbackChanges(current: DocumentSet, target: DocumentSet): Change[] {
  const changes: Change[] = [];
  for (const d of diffStates(current, target)) {
    if (d.after) changes.push({ op: 'put', doc: d.after });
    else if (d.kind === 'Settings') {
      changes.push({ op: 'put', doc: { kind: 'Settings', ...DEFAULT_SETTINGS } as Document });
    } else changes.push({ op: 'delete', kind: d.kind, name: d.name });
  }
  return changes;
}

/** `GET /v1/history`: revisions, newest first. */
async function listHistory(manager: Manager, request: FastifyRequest) {
  const query = request.query as { limit?: string };
  const items = await manager.store.audit({ limit: queryInt(query.limit, 50, 1000) });
  return {
    revision: manager.revision,
    items: items.map((record) => ({
      revision: record.revision,
      at: record.at,
      actor: record.actor,
      action: record.action,
      summary: summarize(record),
      changes: record.changes.length,
    })),
  };
}

/** `GET /v1/diff`: the resources that differ between two revisions. */
async function diffRevisions(manager: Manager, request: FastifyRequest) {
  const query = request.query as { from: string; to: string };
  const from = Number(query.from);
  const to = Number(query.to);
  const before = await stateAtRevision(manager, from, 'from');
  const after = await stateAtRevision(manager, to, 'to');
  return { from, to, changes: diffStates(before, after) };
}

interface RollbackBody {
  revision: number;
  dryRun?: boolean;
  limit?: number;
}

/**
 * `POST /v1/rollback`: the policy state of a past revision written as a new revision
 * (planned under the lock from the current state), or with dryRun only its diff and impact.
 */
async function rollback(manager: Manager, request: FastifyRequest) {
  const body = request.body as RollbackBody;
  if (!Number.isSafeInteger(body.revision))
    throw fieldError('revision', 'a revision', body.revision);
  const target = await stateAtRevision(manager, body.revision, 'revision', POLICY_KINDS);
  const { record, result } = await manager.write(
    { actor: actorOf(request.principal), action: `rollback:${body.revision}` },
    (engine) => {
      const current = stateOf(engine.allDocuments(), POLICY_KINDS);
      const changes = rollbackChanges(current, target);
      const diff = diffStates(current, target);
      const impact =
        changes.length > 0
          ? impactOfChanges(engine, changes, manager.now(), body.limit)
          : { rows: [], truncated: 0, total: 0, pairs: 0 };
      return {
        changes,
        result: { diff, impact },
        commit: body.dryRun !== true && changes.length > 0,
      };
    },
  );
  return {
    ...(body.dryRun === true ? { dryRun: true } : {}),
    revision: record?.revision ?? manager.revision,
    rolledBackTo: body.revision,
    ...result,
  };
}

const RollbackBodySchema = Type.Object(
  {
    revision: Revision(),
    dryRun: Type.Optional(Type.Boolean()),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100000,
        description: 'most impact rows (default 1000)',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The revisions plugin.
 *
 * @example await app.register(revisionRoutes, { manager });
 */
export const revisionRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  app.get(
    '/v1/history',
    {
      config: { access: 'read' },
      schema: {
        tags: ['audit'],
        summary: 'Revisions, newest first: time, actor, action, summary',
        querystring: Type.Object(
          { limit: Type.Optional(LimitQuery(MAX_PAGE)) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => listHistory(manager, request),
  );

  app.get(
    '/v1/diff',
    {
      config: { access: 'read' },
      schema: {
        tags: ['audit'],
        summary: 'Resources that differ between two revisions',
        querystring: Type.Object({ from: Rev, to: Rev }, { additionalProperties: false }),
      },
    },
    async (request) => diffRevisions(manager, request),
  );

  app.post(
    '/v1/rollback',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['apply'],
        summary:
          'Restore the policy state (policies, partitions, reactions, settings) of a revision as a new revision',
        body: RollbackBodySchema,
      },
    },
    async (request) => rollback(manager, request),
  );
};
