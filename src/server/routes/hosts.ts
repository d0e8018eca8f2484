/**
 * The agent-facing stream (design.md §3–§4): each PEP fetches its host's desired
 * state and follows it.
 *
 * - `GET /v1/hosts/{host}/state?underlay=IP` → HostState (src/model/host-state.ts);
 * - `GET /v1/hosts/{host}/watch?underlay=IP` → NDJSON: the current HostState at once,
 *   then a new one whenever a committed change concerns the host (blank keep-alive
 *   lines in between);
 * - `POST /v1/hosts/{host}/ack {revision}` → the PEP applied that revision.
 *
 * Slow agents never block anyone and never make the manager buffer without bound:
 * each stream holds at most one pending state, and a state is only rendered when
 * the socket can take it (later changes coalesce into the next snapshot).
 * An agent token may only read its own host; people (viewer and up) may read any.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { HostState } from '../../model/host-state.js';
import { VnpError } from '../../model/errors.js';
import type { Manager } from '../manager.js';
import type { PepRegistry } from '../distribution/pep-registry.js';

const KEEPALIVE_MS = 15_000;
const HOST_RE = /^[a-z0-9]([a-z0-9._-]{0,62})$/;

export interface HostRoutesOptions {
  manager: Manager;
  peps: PepRegistry;
}

/** The host's state with each remote record's underlay address filled in. */
export function hostStateFor(manager: Manager, peps: PepRegistry, host: string): HostState {
  const state = manager.engine.hostState(host, manager.revision);
  for (const r of state.remotes) {
    const underlay = peps.underlayOf(r.host);
    if (underlay !== undefined) r.underlay = underlay;
  }
  return state;
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

function underlayParam(request: FastifyRequest): string | undefined {
  const u = (request.query as { underlay?: string }).underlay;
  return u === undefined || u === '' ? undefined : u;
}

const HostParams = {
  type: 'object',
  properties: { host: { type: 'string' } },
  required: ['host'],
} as const;
const UnderlayQuery = {
  type: 'object',
  properties: { underlay: { type: 'string', maxLength: 45 } },
  additionalProperties: false,
} as const;

/**
 * Host state, watch and ack routes.
 *
 * @example
 *   await app.register(hostRoutes, { manager, peps });
 */
export const hostRoutes: FastifyPluginAsync<HostRoutesOptions> = async (app, { manager, peps }) => {
  const streams = new Set<ServerResponse>();
  app.addHook('onClose', async () => {
    for (const s of streams) s.end();
  });

  app.get(
    '/v1/hosts/:host/state',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['hosts'],
        summary: "A host's desired state (for its PEP)",
        params: HostParams,
        querystring: UnderlayQuery,
      },
    },
    async (request) => {
      const host = hostParam(request);
      if (request.principal?.role === 'agent') peps.touch(host, underlayParam(request));
      return hostStateFor(manager, peps, host);
    },
  );

  app.post(
    '/v1/hosts/:host/ack',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['hosts'],
        summary: 'A PEP applied a revision',
        params: HostParams,
        body: {
          type: 'object',
          properties: { revision: { type: 'integer', minimum: 0 } },
          required: ['revision'],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const host = hostParam(request);
      peps.ack(host, (request.body as { revision: number }).revision);
      return { ok: true };
    },
  );

  app.get(
    '/v1/hosts/:host/watch',
    {
      config: { access: 'agent' },
      schema: {
        tags: ['hosts'],
        summary: "Stream a host's state (NDJSON), then every change",
        params: HostParams,
        querystring: UnderlayQuery,
      },
    },
    async (request, reply) => {
      const host = hostParam(request);
      const isAgent = request.principal?.role === 'agent';
      reply.hijack();
      const stream = reply.raw;
      stream.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
      });
      streams.add(stream);
      const disconnect = isAgent ? peps.connect(host, underlayParam(request)) : () => undefined;
      let dirty = true;
      let waiting = false;
      const flush = () => {
        if (!dirty || waiting || stream.destroyed) return;
        dirty = false;
        const state = hostStateFor(manager, peps, host);
        const ok = stream.write(JSON.stringify(state) + '\n');
        if (isAgent) peps.sent(host, state.revision);
        if (!ok) {
          // Backpressure: render the next snapshot only once this one is out.
          waiting = true;
          stream.once('drain', () => {
            waiting = false;
            flush();
          });
        }
      };
      const mark = () => {
        dirty = true;
        setImmediate(flush); // coalesce a burst of records into one snapshot
      };
      const offRecord = manager.onRecord((_record, delta) => {
        if (!delta || manager.engine.hostsOf(delta).has(host)) mark();
      });
      const offUnderlay = peps.onUnderlayChange(mark);
      const keepAlive = setInterval(() => stream.write('\n'), KEEPALIVE_MS);
      keepAlive.unref();
      stream.on('close', () => {
        clearInterval(keepAlive);
        offRecord();
        offUnderlay();
        disconnect();
        streams.delete(stream);
      });
      flush();
    },
  );
};
