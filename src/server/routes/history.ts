/**
 * The change log seen two ways: `GET /v1/audit` (newest first, filtered) and
 * `GET /v1/watch?since=REV` (a stream of ChangeRecords as NDJSON, one per line:
 * first the log after REV, then every new commit as the manager applies it).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { VnpError } from '../../model/errors.js';
import { KINDS, type Kind } from '../../model/types.js';
import type { ChangeRecord } from '../../store/index.js';
import type { Manager } from '../manager.js';
import { AuditQuery, WatchQuery, queryInt } from '../schemas.js';
import { serveWatch } from '../ndjson-response.js';
import type { ManagerPluginOptions } from './plugin-options.js';

/** How many log entries a watch replays per store query. */
const REPLAY_PAGE = 500;

/**
 * Open a watch: replay the log after `since`, then follow live records. Records
 * are deduplicated by revision, so the seam between replay and live is exact.
 */
function openWatch(manager: Manager, since: number, stream: ServerResponse): () => void {
  let last = since;
  let replaying = true;
  const pending: ChangeRecord[] = [];
  const write = (r: ChangeRecord): void => {
    if (r.revision <= last || stream.destroyed || stream.writableEnded) return;
    last = r.revision;
    stream.write(`${JSON.stringify(r)}\n`);
  };
  const off = manager.onRecord((r) => (replaying ? pending.push(r) : write(r)));
  void (async () => {
    for (;;) {
      const records = await manager.store.changesSince(last, REPLAY_PAGE);
      // Ended (shutdown, revocation): write drops records, so replaying on would loop.
      if (records.length === 0 || stream.destroyed || stream.writableEnded) break;
      records.forEach(write);
    }
    replaying = false;
    pending.splice(0).forEach(write);
  })().catch((err: unknown) => stream.destroy(err as Error));
  return off;
}

/**
 * Audit and watch routes.
 *
 * @example
 *   await app.register(historyRoutes, { manager });
 */
export const historyRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const response of streams) response.end();
  });

  app.get(
    '/v1/audit',
    {
      config: { access: 'admin' },
      schema: { tags: ['audit'], summary: 'The audit log, newest first', querystring: AuditQuery },
    },
    async (request) => {
      const q = request.query as { limit?: string; kind?: string; name?: string; since?: string };
      if (q.kind !== undefined && !KINDS.includes(q.kind as Kind)) {
        throw new VnpError('VNP_ERR_VALIDATION', `kind: expected one of ${KINDS.join(', ')}`, {
          field: 'kind',
          in: 'querystring',
        });
      }
      const items = await manager.store.audit({
        limit: queryInt(q.limit, 100, 1000),
        ...(q.kind !== undefined ? { kind: q.kind as Kind } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.since !== undefined ? { sinceRevision: queryInt(q.since, 0) } : {}),
      });
      return { items };
    },
  );

  app.get(
    '/v1/watch',
    {
      config: { access: 'read' },
      schema: {
        tags: ['watch'],
        summary: 'Stream change records (NDJSON) after revision `since` (default: now), then live',
        querystring: WatchQuery,
      },
    },
    async (request, reply) => {
      const q = request.query as { since?: string };
      const since = queryInt(q.since, manager.revision);
      const oldest = await manager.store.oldestRevision();
      // Records (since, oldest) were compacted away: the watcher must resync from a snapshot.
      if (since < manager.revision && since < oldest - 1) {
        throw new VnpError(
          'VNP_ERR_HISTORY_GONE',
          `revision ${since} is older than the change log (oldest ${oldest})`,
          {
            field: 'since',
            oldest,
          },
        );
      }
      // The headers go out now (startNdjson), before the first record.
      serveWatch(request, reply, streams, (stream) => openWatch(manager, since, stream));
    },
  );
};
