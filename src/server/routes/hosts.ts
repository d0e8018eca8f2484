/**
 * The agent-facing stream (design.md §3–§4, docs/protocol.md): each PEP fetches its
 * host's desired state and follows it.
 *
 * - `GET /v1/hosts/{host}/state?underlay=IP` → HostState (src/model/host-state.ts), for
 *   debugging and tests;
 * - `GET /v1/hosts/{host}/watch?since=REV&underlay=IP` → NDJSON messages
 *   (src/model/host-delta.ts): a snapshot (or, with `since`, the deltas from REV when
 *   the manager still holds them), then one delta per change, heartbeats in between;
 *   with `Upgrade: websocket` the same messages as text frames, and the PEP's
 *   acknowledgements come back up the same connection
 *   (src/server/distribution/host-channel.ts);
 * - `POST /v1/hosts/{host}/ack {revision}` → the PEP applied that revision (NDJSON watchers):
 *   the host's agent token only, and never a revision the manager has not sent it (409).
 *
 * Revoking the token that opened a watch closes it (src/server/auth.ts, `hold`).
 *
 * Slow agents never block anyone and never make the manager buffer without bound
 * (src/server/distribution/host-stream.ts). An agent token may only read its own
 * host; people (viewer and up) may read any.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { VnpError, fieldError } from '../../model/errors.js';
import { MAX_REVISION } from '../schemas.js';
import type { Manager } from '../manager.js';
import {
  PEP_KINDS,
  underlayText,
  type PepKind,
  type PepRegistry,
} from '../distribution/pep-registry.js';
import { distributionFor, installDistributionHooks } from '../distribution/distribution.js';
import { holdWhileAuthorized } from '../auth.js';
import { endWithGrace, startNdjson } from '../ndjson-response.js';
import {
  acceptChannel,
  CLOSE_TOKEN_REVOKED,
  installUpgradeRouting,
  wantsChannel,
} from '../distribution/host-channel.js';
import { ndjsonSink, serveHostStream, type HostSink } from '../distribution/host-stream.js';

const HOST_RE = /^[a-z0-9]([a-z0-9._-]{0,62})$/;

export interface HostRoutesOptions {
  manager: Manager;
  peps: PepRegistry;
  /** Watch heartbeat period (default 5000 ms). */
  heartbeatMs?: number;
  /**
   * Takes a flow batch a host's agent sent (a channel frame or `POST …/flows`):
   * checks it (throws a VnpError naming the field) and queues it (docs/flows.md).
   */
  flows?: (host: string, batch: unknown) => { queued: number; refused: number };
}

function hostParam(request: FastifyRequest): string {
  const { host } = request.params as { host: string };
  if (!HOST_RE.test(host)) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `host: expected a host name matching ${HOST_RE.source}, got ${JSON.stringify(host)}`,
      { field: 'host' },
    );
  }
  const p = request.principal;
  if (p?.role === 'agent' && p.host !== host) {
    throw new VnpError(
      'VNP_ERR_FORBIDDEN',
      `this agent token is bound to host "${p.host ?? ''}", not "${host}"`,
      { role: 'agent', host },
    );
  }
  return host;
}

/**
 * The underlay address an agent reports: exactly one IP address (canonical text), as it
 * becomes other hosts' VXLAN FDB destinations; anything else is refused (400).
 */
/**
 * Route hook: the host name and the agent's binding are checked right after
 * authentication, before the body is parsed or validated (an agent naming another
 * host gets 403, never a validation answer about a request it may not make).
 */
async function bindHost(request: FastifyRequest): Promise<void> {
  hostParam(request);
}

/** The kind a PEP reports (the schema admits only PEP_KINDS). */
function kindParam(request: FastifyRequest): PepKind | undefined {
  return (request.query as { kind?: PepKind }).kind;
}

function underlayParam(request: FastifyRequest): string | undefined {
  const u = (request.query as { underlay?: string }).underlay;
  if (u === undefined || u === '') return undefined;
  const ip = underlayText(u);
  if (ip === undefined)
    throw fieldError('underlay', 'one IPv4 or IPv6 address, e.g. 192.0.2.1 or 2001:db8::1', u);
  return ip;
}

const HostParams = {
  type: 'object',
  properties: { host: { type: 'string' } },
  required: ['host'],
} as const;
const UnderlayQuery = {
  type: 'object',
  properties: { underlay: { type: 'string', maxLength: 45 }, kind: { enum: [...PEP_KINDS] } },
  additionalProperties: false,
} as const;
const WatchQuery = {
  type: 'object',
  properties: {
    underlay: { type: 'string', maxLength: 45 },
    kind: { enum: [...PEP_KINDS] },
    // Query strings are not coerced (app.ts): a decimal revision (below 2^53).
    since: { type: 'string', pattern: '^[0-9]{1,15}$' },
  },
  additionalProperties: false,
} as const;

/** The routes; see {@link hostRoutes}. */
const hostRoutesPlugin: FastifyPluginAsync<HostRoutesOptions> = async (
  app,
  { manager, peps, heartbeatMs, flows },
) => {
  const dist = distributionFor(manager, peps);
  installDistributionHooks(app, dist);
  const streams = new Set<ServerResponse>();
  const channels = new Set<HostSink>();
  installUpgradeRouting(app);
  app.addHook('onClose', async () => {
    for (const s of streams) s.end();
  });
  // Before the HTTP server closes: it waits for upgraded sockets, which
  // forceCloseConnections does not reach.
  app.addHook('preClose', async () => {
    for (const c of channels) c.destroy();
  });

  app.get(
    '/v1/hosts/:host/state',
    {
      config: { access: 'agent' },
      onRequest: bindHost,
      schema: {
        tags: ['hosts'],
        summary: "A host's desired state (for its PEP)",
        params: HostParams,
        querystring: UnderlayQuery,
      },
    },
    async (request) => {
      const host = hostParam(request);
      const underlay = underlayParam(request);
      // Canonical, with each remote record's underlay address filled in.
      const state = dist.feed.snapshot(host);
      if (request.principal?.role === 'agent') {
        peps.touch(host, underlay, kindParam(request));
        peps.sent(host, state.revision);
      }
      return state;
    },
  );

  app.post(
    '/v1/hosts/:host/ack',
    {
      // Only the enforcement point itself knows what it applied: no person may say so.
      config: { access: 'pep' },
      onRequest: bindHost,
      schema: {
        tags: ['hosts'],
        summary: 'A PEP applied a revision (its own agent token only)',
        params: HostParams,
        body: {
          type: 'object',
          properties: { revision: { type: 'integer', minimum: 0, maximum: MAX_REVISION } },
          required: ['revision'],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const host = hostParam(request);
      const { revision } = request.body as { revision: number };
      const sent = peps.sentOf(host);
      if (revision > sent) {
        throw new VnpError(
          'VNP_ERR_CONFLICT',
          `revision: ${revision} was never sent to host "${host}" by this manager (last sent: ${sent})`,
          { field: 'revision', revision, sent },
        );
      }
      peps.ack(host, revision);
      return { ok: true };
    },
  );

  if (flows)
    app.post(
      '/v1/hosts/:host/flows',
      {
        // Flows are what this host's kernel judged: only its own agent reports them.
        config: { access: 'pep' },
        onRequest: bindHost,
        schema: {
          tags: ['flows'],
          summary:
            "Report flow records of this host's kernel (its own agent token only; agents on the WebSocket channel send them as frames)",
          params: HostParams,
        },
      },
      async (request) => flows(hostParam(request), request.body),
    );

  app.get(
    '/v1/hosts/:host/watch',
    {
      config: { access: 'agent' },
      onRequest: bindHost,
      schema: {
        tags: ['hosts'],
        summary:
          "Stream a host's state as snapshot, deltas and heartbeats (NDJSON; docs/protocol.md)",
        params: HostParams,
        querystring: WatchQuery,
      },
    },
    async (request, reply) => {
      const host = hostParam(request);
      const underlay = underlayParam(request);
      const isAgent = request.principal?.role === 'agent';
      const sinceText = (request.query as { since?: string }).since;
      const since = sinceText === undefined ? undefined : Number(sinceText);
      reply.hijack();
      const serve = (sink: HostSink, end: () => void) => {
        const disconnect = isAgent
          ? peps.connect(host, underlay, kindParam(request))
          : () => undefined;
        serveHostStream({
          feed: dist.feed,
          host,
          sink,
          ...(since !== undefined ? { since } : {}),
          ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
          onSent: (revision) => {
            if (isAgent) peps.sent(host, revision);
          },
          onClose: () => {
            disconnect();
            end();
          },
        });
      };
      if (wantsChannel(request)) {
        acceptChannel(request, reply.raw, (channel) => {
          channels.add(channel.sink);
          // Same rights as POST …/ack: the connection was authenticated for this host, by
          // its agent; a person's channel may watch but not acknowledge (its ack frames
          // are ignored). A resuming agent may ack what it applied before this manager
          // sent anything: taken up to what was sent (PepRegistry.ack).
          if (isAgent) channel.onAck((revision) => void peps.ack(host, revision));
          // Flow batches of this host's agent; a bad one is logged and dropped (the
          // channel has no answer to carry an error), the stream goes on.
          if (isAgent && flows)
            channel.onFlows((batch) => {
              try {
                flows(host, batch);
              } catch (err) {
                request.log.warn({ err, host }, 'refused a flow batch');
              }
            });
          // Revoking the token closes the channel (the reconnect then gets 401).
          const release = holdWhileAuthorized(request, (reason) =>
            channel.close(CLOSE_TOKEN_REVOKED, reason),
          );
          serve(channel.sink, () => {
            channels.delete(channel.sink);
            release();
          });
        });
        return;
      }
      // Headers out now: a resuming agent may wait a while for its first message.
      const stream = startNdjson(reply.raw);
      streams.add(stream);
      // Revoking the token ends the stream (NDJSON has no error message: the reconnect
      // gets 401); a reader that does not take the end is cut off.
      const release = holdWhileAuthorized(request, () => endWithGrace(stream));
      serve(ndjsonSink(stream), () => {
        streams.delete(stream);
        release();
      });
    },
  );
};

/**
 * Host state, watch and ack routes, plus the protocol's global hooks (`?wait=` on
 * writes, protocol metrics): registered without encapsulation so the hooks reach
 * every route.
 *
 * @example
 *   await app.register(hostRoutes, { manager, peps });
 */
export const hostRoutes: FastifyPluginAsync<HostRoutesOptions> = Object.assign(hostRoutesPlugin, {
  [Symbol.for('skip-override')]: true,
});
