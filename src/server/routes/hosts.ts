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
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { VnpError, fieldError } from '../../model/errors.js';
import { FEATURES_HEADER, SIDE_PATCHES_FEATURE } from '../../model/host-delta.js';
import { MAX_REVISION } from '../schemas.js';
import type { Manager } from '../manager.js';
import {
  PEP_KINDS,
  underlayText,
  type PepKind,
  type PepRegistry,
} from '../distribution/pep-registry.js';
import {
  distributionFor,
  installDistributionHooks,
  type Distribution,
} from '../distribution/distribution.js';
import { holdWhileAuthorized } from '../auth.js';
import { endWithGrace, startNdjson } from '../ndjson-response.js';
import {
  acceptChannel,
  CLOSE_TOKEN_REVOKED,
  type HostChannel,
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

/**
 * The underlay address an agent reports: exactly one IP address (canonical text), as it
 * becomes other hosts' VXLAN FDB destinations; anything else is refused (400).
 */
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

/** What the handlers share: the feed, the registry, and the open streams to end on close. */
interface HostRouteContext {
  dist: Distribution;
  peps: PepRegistry;
  heartbeatMs: number | undefined;
  flows: HostRoutesOptions['flows'];
  streams: Set<ServerResponse>;
  channels: Set<HostSink>;
}

/** `GET …/state`: the host's state, canonical, each remote record's underlay filled in. */
function readState(context: HostRouteContext, request: FastifyRequest) {
  const host = hostParam(request);
  const underlay = underlayParam(request);
  const state = context.dist.feed.snapshot(host);
  if (request.principal?.role === 'agent') {
    context.peps.touch(host, underlay, kindParam(request));
    context.peps.sent(host, state.revision);
  }
  return state;
}

/** `POST …/ack`: never a revision this manager has not sent the host (409). */
function acknowledge(peps: PepRegistry, request: FastifyRequest): { ok: true } {
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
}

/** One watch being served: who asked, for which host, from which revision. */
interface Watch {
  request: FastifyRequest;
  host: string;
  underlay: string | undefined;
  isAgent: boolean;
  since: number | undefined;
  /** The agent folds side patches (its `vnp-features` header says so). */
  sidePatches: boolean;
}

function watchOf(request: FastifyRequest): Watch {
  const host = hostParam(request);
  const underlay = underlayParam(request);
  const sinceText = (request.query as { since?: string }).since;
  const since = sinceText === undefined ? undefined : Number(sinceText);
  const features = request.headers[FEATURES_HEADER];
  const sidePatches = String(features ?? '')
    .split(',')
    .some((f) => f.trim() === SIDE_PATCHES_FEATURE);
  return {
    request,
    host,
    underlay,
    isAgent: request.principal?.role === 'agent',
    since,
    sidePatches,
  };
}

/** Serve the host's stream into a sink; an agent's connection is known to the registry. */
function serveWatch(
  context: HostRouteContext,
  watch: Watch,
  sink: HostSink,
  end: () => void,
): void {
  const { peps, heartbeatMs } = context;
  const { host, isAgent } = watch;
  const disconnect = isAgent
    ? peps.connect(host, watch.underlay, kindParam(watch.request))
    : () => undefined;
  serveHostStream({
    feed: context.dist.feed,
    host,
    sink,
    ...(watch.since !== undefined ? { since: watch.since } : {}),
    sidePatches: watch.sidePatches,
    ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
    onSent: (revision) => {
      if (isAgent) peps.sent(host, revision);
    },
    onClose: () => {
      disconnect();
      end();
    },
  });
}

/** The watch over a WebSocket channel: acks and flow batches come back up it. */
function watchOnChannel(context: HostRouteContext, watch: Watch, channel: HostChannel): void {
  const { peps, flows, channels } = context;
  const { request, host, isAgent } = watch;
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
  serveWatch(context, watch, channel.sink, () => {
    channels.delete(channel.sink);
    release();
  });
}

/** The watch as NDJSON lines (acks come by `POST …/ack`). */
function watchOnNdjson(context: HostRouteContext, watch: Watch, reply: FastifyReply): void {
  // Headers out now: a resuming agent may wait a while for its first message.
  const stream = startNdjson(reply.raw);
  context.streams.add(stream);
  // Revoking the token ends the stream (NDJSON has no error message: the reconnect
  // gets 401); a reader that does not take the end is cut off.
  const release = holdWhileAuthorized(watch.request, () => endWithGrace(stream));
  serveWatch(context, watch, ndjsonSink(stream), () => {
    context.streams.delete(stream);
    release();
  });
}

/** `GET …/watch`: a WebSocket channel when the request asks to upgrade, NDJSON otherwise. */
function watchHost(context: HostRouteContext, request: FastifyRequest, reply: FastifyReply): void {
  const watch = watchOf(request);
  reply.hijack();
  if (wantsChannel(request))
    acceptChannel(request, reply.raw, (channel) => watchOnChannel(context, watch, channel));
  else watchOnNdjson(context, watch, reply);
}

const STATE_ROUTE = {
  config: { access: 'agent' },
  onRequest: bindHost,
  schema: {
    tags: ['hosts'],
    summary: "A host's desired state (for its PEP)",
    params: HostParams,
    querystring: UnderlayQuery,
  },
} as const;
const ACK_ROUTE = {
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
} as const;
const FLOWS_ROUTE = {
  // Flows are what this host's kernel judged: only its own agent reports them.
  config: { access: 'pep' },
  onRequest: bindHost,
  schema: {
    tags: ['flows'],
    summary:
      "Report flow records of this host's kernel (its own agent token only; agents on the WebSocket channel send them as frames)",
    params: HostParams,
  },
} as const;
const WATCH_ROUTE = {
  config: { access: 'agent' },
  onRequest: bindHost,
  schema: {
    tags: ['hosts'],
    summary: "Stream a host's state as snapshot, deltas and heartbeats (NDJSON; docs/protocol.md)",
    params: HostParams,
    querystring: WatchQuery,
  },
} as const;

/** The routes; see {@link hostRoutes}. */
const hostRoutesPlugin: FastifyPluginAsync<HostRoutesOptions> = async (
  app,
  { manager, peps, heartbeatMs, flows },
) => {
  const dist = distributionFor(manager, peps);
  installDistributionHooks(app, dist);
  const context: HostRouteContext = {
    dist,
    peps,
    heartbeatMs,
    flows,
    streams: new Set(),
    channels: new Set(),
  };
  installUpgradeRouting(app);
  app.addHook('onClose', async () => {
    for (const stream of context.streams) stream.end();
  });
  // Before the HTTP server closes: it waits for upgraded sockets, which
  // forceCloseConnections does not reach.
  app.addHook('preClose', async () => {
    for (const channel of context.channels) channel.destroy();
  });

  app.get('/v1/hosts/:host/state', STATE_ROUTE, async (request) => readState(context, request));
  app.post('/v1/hosts/:host/ack', ACK_ROUTE, async (request) => acknowledge(peps, request));
  if (flows)
    app.post('/v1/hosts/:host/flows', FLOWS_ROUTE, async (request) =>
      flows(hostParam(request), request.body),
    );
  app.get('/v1/hosts/:host/watch', WATCH_ROUTE, async (request, reply) =>
    watchHost(context, request, reply),
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
