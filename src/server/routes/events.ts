/**
 * Events (design.md §1 Reaction, §5): `POST /v1/events {type, target, severity?,
 * details?}`, `POST /v1/events/suricata` (Suricata EVE JSON alerts: one object,
 * an array, or NDJSON) and `GET /v1/events?limit=`. Each event is stored, and
 * the reactions it fires are applied as one normal write by the manager's
 * Reactor (src/reactions/reactor.ts), which this plugin starts and stops.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { validateEventInput } from '../../reactions/event-input.js';
import { Reactor, type EventOutcome } from '../../reactions/reactor.js';
import { parseSuricataEve } from '../../reactions/suricata.js';
import { actorOf } from '../auth.js';
import type { Manager } from '../manager.js';
import { LimitQuery, MAX_PAGE, queryInt } from '../schemas.js';
import type { ManagerPluginOptions } from './plugin-options.js';

const reactors = new WeakMap<Manager, Reactor>();

/**
 * The reactor of a manager built by `buildServer` (tests move the clock, then `runDue()`).
 *
 * @example await reactorOf(server.manager)!.runDue()
 */
export function reactorOf(manager: Manager): Reactor | undefined {
  return reactors.get(manager);
}

const EventBody = Type.Object(
  {
    type: Type.String({ description: 'Event type, e.g. ids.alert' }),
    target: Type.String({ description: 'A record name or an address' }),
    severity: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    details: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

const EventsQuery = Type.Object(
  { limit: Type.Optional(LimitQuery(MAX_PAGE)) },
  { additionalProperties: false },
);

/** An outcome on the wire. */
function wire(o: EventOutcome) {
  return {
    event: o.event,
    ...(o.revision !== undefined ? { revision: o.revision } : {}),
    expiries: o.expiries.map((x) => ({
      record: x.record,
      reaction: x.reaction,
      expiresAt: x.expiresAt,
    })),
  };
}

/**
 * The events plugin (also owns the manager's Reactor).
 *
 * @example
 *   await app.register(eventRoutes, { manager });
 */
export const eventRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  const reactor = new Reactor(manager);
  reactors.set(manager, reactor);
  app.addHook('onReady', () => reactor.start());
  app.addHook('onClose', () => reactor.stop());
  // Suricata's eve.json is NDJSON; accept it raw (only in this plugin).
  app.addContentTypeParser(
    ['application/x-ndjson', 'text/plain'],
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/v1/events',
    {
      config: { access: 'operate' },
      schema: {
        tags: ['events'],
        summary: 'Report an event; the reactions it fires change the target’s tags',
        body: EventBody,
      },
    },
    async (request, reply) => {
      const input = validateEventInput(request.body);
      // 201: the event is stored (GET /v1/events lists it), whatever its reactions did.
      const out = wire(await reactor.handleEvent(input, actorOf(request.principal)));
      return reply.status(201).send(out);
    },
  );

  app.post(
    '/v1/events/suricata',
    {
      config: { access: 'operate' },
      schema: {
        tags: ['events'],
        summary:
          'Ingest Suricata EVE JSON alerts (object, array or NDJSON); each alert is a suricata.alert event on the record holding src_ip (else dest_ip)',
      },
    },
    async (request) => {
      const { events, skipped } = parseSuricataEve(request.body);
      const actor = actorOf(request.principal);
      const out = [];
      for (const e of events) {
        // The sender of the offending traffic is the target; dest_ip only when
        // src_ip is outside every record (an attack from outside on a record).
        const target = e.candidates.find((c) => reactor.resolveTarget(c)) ?? e.candidates[0]!;
        out.push(
          wire(
            await reactor.handleEvent(
              {
                type: e.type,
                aliases: e.aliases,
                target,
                ...(e.severity !== undefined ? { severity: e.severity } : {}),
                details: e.details,
              },
              actor,
            ),
          ),
        );
      }
      return { events: out, skipped };
    },
  );

  app.get(
    '/v1/events',
    {
      config: { access: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Recent events, newest first',
        querystring: EventsQuery,
      },
    },
    async (request) => {
      const q = request.query as { limit?: string };
      return { items: await manager.store.listEvents(queryInt(q.limit, 100, 1000)) };
    },
  );

  expiriesRoute(app, manager);
};

/**
 * `GET /v1/expiries`: the undos the reactor will run (a TTL reaction's tags going away),
 * soonest first; the web UI counts them down. Bounded by records × TTL reactions, so one
 * page.
 */
function expiriesRoute(app: FastifyInstance, manager: Manager): void {
  app.get(
    '/v1/expiries',
    {
      config: { access: 'read' },
      schema: { tags: ['events'], summary: 'Pending reaction expiries, soonest first' },
    },
    async () => ({
      items: (await manager.store.listExpiries()).map((x) => ({
        record: x.record,
        reaction: x.reaction,
        expiresAt: x.expiresAt,
        set: x.set,
        removed: x.removed,
      })),
    }),
  );
}
