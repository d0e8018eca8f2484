/**
 * Prometheus metrics (`/metrics`): request latency by route/method/status, the
 * current revision, the last compile time, object counts by kind, identities.
 * Each app has its own registry so several managers (tests) never collide.
 */
import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KINDS } from '../model/types.js';
import type { Manager } from './manager.js';

/**
 * Install the latency hook and the `/metrics` route on the root instance.
 *
 * @example
 *   installMetrics(app, manager); // GET /metrics → text/plain; version=0.0.4
 */
export function installMetrics(
  app: FastifyInstance,
  manager: Manager,
  opts: { route: boolean } = { route: true },
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vnp_process_' });
  const latency = new Histogram({
    name: 'vnp_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'vnp_revision',
    help: "The store revision the manager's model reflects",
    registers: [registry],
    collect() {
      this.set(manager.revision);
    },
  });
  new Gauge({
    name: 'vnp_last_compile_seconds',
    help: 'Duration of the last model compile (load or apply)',
    registers: [registry],
    collect() {
      this.set(manager.lastCompileSeconds);
    },
  });
  new Gauge({
    name: 'vnp_objects',
    help: 'Resources in the model by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      for (const kind of KINDS)
        this.set({ kind }, manager.loaded ? manager.engine.list(kind).length : 0);
    },
  });
  new Gauge({
    name: 'vnp_identities',
    help: 'Allocated identities',
    registers: [registry],
    collect() {
      this.set(manager.loaded ? manager.engine.stats().identities : 0);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // Unknown routes share one label so scanners cannot blow up the label space.
    const route = request.routeOptions.url ?? 'unmatched';
    latency.observe(
      { route, method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Behind a viewer token: the metrics name routes, counts and timings of the model.
  if (opts.route) {
    app.get(
      '/metrics',
      { config: { access: 'read' }, schema: { hide: true } },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    );
  }
  return registry;
}
