/**
 * Flow visibility (docs/flows.md, issue #12): `GET /v1/flows` (paged, filtered, newest
 * first), `GET /v1/flows/summary` (the observed connectivity graph of a window) and
 * `GET /v1/flows/watch` (new flows as NDJSON, same filters). Viewer and up. Agents
 * report flows over their channel or `POST /v1/hosts/{host}/flows` (routes/hosts.ts).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { FlowSummaryRow, StoredFlow } from '../../model/flow.js';
import type { FlowHub } from '../flows/flow-hub.js';
import { parseFlowQuery, parseTimeBound, type FlowQueryText } from '../flows/flow-filter.js';
import type { Manager } from '../manager.js';
import { serveWatch } from '../ndjson-response.js';

export interface FlowRoutesOptions {
  manager: Manager;
  hub: FlowHub;
}

const text = { type: 'string', maxLength: 4096 } as const;
const FILTERS = {
  verdict: { type: 'string', enum: ['allow', 'deny'] },
  from: { ...text, description: 'Source: a record name, an address or prefix, or a selector' },
  to: { ...text, description: 'Destination: a record name, an address or prefix, or a selector' },
  policy: { ...text, description: 'Deciding policy of either side' },
  host: { ...text, description: 'The PEP host that reported the flow' },
  since: { ...text, description: 'ISO time, or a duration ago (10m, 1h)' },
  until: { ...text, description: 'ISO time, or a duration ago' },
} as const;
const FlowsQuery = {
  type: 'object',
  properties: {
    ...FILTERS,
    limit: { type: 'string', pattern: '^[0-9]{1,6}$', description: '1..1000, default 100' },
    cursor: { ...text, description: 'The `next` of the previous page' },
  },
  additionalProperties: false,
} as const;
const WatchFlowsQuery = {
  type: 'object',
  properties: FILTERS,
  additionalProperties: false,
} as const;
const SummaryQuery = {
  type: 'object',
  properties: { since: FILTERS.since, until: FILTERS.until },
  additionalProperties: false,
} as const;

/**
 * What of the kernel's decisions is not in the records, and how many agents report
 * (`vnp flows` says so, and why a listing is empty).
 */
function sampling(hub: FlowHub) {
  let unsampled = 0;
  let sampled = 0;
  let dropped = hub.stats.refused + hub.stats.failed;
  for (const c of hub.agentCounters().values()) {
    unsampled += c.unsampled;
    sampled += c.sampled;
    dropped += c.dropped;
  }
  return { sampled, unsampled, dropped, reporting: hub.agentCounters().size };
}

/** `GET /v1/flows`: one page of records, newest first, and what sampling left out. */
async function listFlowPage(manager: Manager, hub: FlowHub, request: FastifyRequest) {
  const { query } = parseFlowQuery(request.query as FlowQueryText, manager.engine, manager.now());
  // One more than asked: whether a next page exists without another query.
  const rows = await manager.store.listFlows({ ...query, limit: query.limit + 1 });
  const items = rows.slice(0, query.limit);
  return {
    items,
    ...(rows.length > query.limit ? { next: String(items[items.length - 1]!.id) } : {}),
    sampling: sampling(hub),
    retention: hub.retention,
  };
}

/**
 * Denies of the window by deciding policy and rule: `packets` the kernels counted
 * exactly (hosts with per-rule counters, docs/adr/0066), `sampled` the deny records
 * stored (every host). Where `packets` > `sampled`, the rate limit kept samples back.
 */
function deniesOf(hub: FlowHub, items: readonly FlowSummaryRow[], since: string, until?: string) {
  const out = new Map<string, { policy: string; rule: string; packets: number; sampled: number }>();
  const at = (policy: string, rule: string) => {
    const key = `${policy}\u0000${rule}`;
    let d = out.get(key);
    if (!d) out.set(key, (d = { policy, rule, packets: 0, sampled: 0 }));
    return d;
  };
  const end = until === undefined ? undefined : Date.parse(until);
  for (const c of hub.denied.window(Date.parse(since), end))
    at(c.policy, c.rule).packets = c.packets;
  for (const r of items) if (r.verdict === 'deny') at(r.policy, r.rule).sampled += r.count;
  return [...out.values()].sort((a, b) => b.packets - a.packets || b.sampled - a.sampled);
}

/** `GET /v1/flows/summary`: the aggregate of a window, with each identity's tags. */
async function summarizeFlows(manager: Manager, hub: FlowHub, request: FastifyRequest) {
  const q = request.query as { since?: string; until?: string };
  const now = manager.now();
  const since = parseTimeBound(q.since ?? '1h', 'since', now);
  const until = q.until !== undefined ? parseTimeBound(q.until, 'until', now) : undefined;
  const items = await manager.store.flowSummary(since, until);
  // The identities' tags come from the model: committed state only (docs/adr/0055).
  await manager.committed();
  const identities: Record<string, { tags: unknown; partitions: string[] }> = {};
  for (const r of items)
    for (const id of [r.srcIdentity, r.dstIdentity]) {
      const info = identities[id] === undefined ? manager.engine.identityInfo(id) : undefined;
      if (info) identities[id] = { tags: info.tags, partitions: info.partitions };
    }
  const denied = deniesOf(hub, items, since, until);
  return { since, ...(until ? { until } : {}), items, identities, denied };
}

/**
 * `GET /v1/flows/watch`: new records matching the filters as NDJSON, with keep-alive
 * lines, until the client goes, the server closes or the token stops being valid.
 */
function watchFlows(
  { manager, hub }: FlowRoutesOptions,
  streams: Set<ServerResponse>,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { matches } = parseFlowQuery(request.query as FlowQueryText, manager.engine, manager.now());
  serveWatch(request, reply, streams, (stream) =>
    hub.onFlows((flows: StoredFlow[]) => {
      if (stream.writableEnded || stream.destroyed) return;
      const lines = flows.filter(matches).map((f) => `${JSON.stringify(f)}\n`);
      if (lines.length > 0) stream.write(lines.join(''));
    }),
  );
}

/**
 * The flow routes.
 *
 * @example await app.register(flowRoutes, { manager, hub });
 */
export const flowRoutes: FastifyPluginAsync<FlowRoutesOptions> = async (app, opts) => {
  const { manager, hub } = opts;
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });
  app.get(
    '/v1/flows',
    {
      config: { access: 'read' },
      schema: {
        tags: ['flows'],
        summary: 'Flow records, newest first, filtered and paged (docs/flows.md)',
        querystring: FlowsQuery,
      },
    },
    (request) => listFlowPage(manager, hub, request),
  );
  app.get(
    '/v1/flows/summary',
    {
      config: { access: 'read' },
      schema: {
        tags: ['flows'],
        summary:
          'The observed connectivity graph: per (src identity, dst identity, protocol, port, verdict, deciding policy/rule), connections and bytes in the window (default the last hour); and per deciding policy/rule, the denied packets the kernels counted exactly beside the deny samples stored',
        querystring: SummaryQuery,
      },
    },
    (request) => summarizeFlows(manager, hub, request),
  );
  app.get(
    '/v1/flows/watch',
    {
      config: { access: 'read' },
      schema: {
        tags: ['flows'],
        summary: 'Stream new flow records (NDJSON) matching the same filters as GET /v1/flows',
        querystring: WatchFlowsQuery,
      },
    },
    async (request, reply) => watchFlows(opts, streams, request, reply),
  );
};
