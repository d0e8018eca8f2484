/**
 * The route-access table: every route's access level as declared (`config.access`,
 * the levels of src/server/auth.ts; which roles each admits is the table in
 * docs/security.md, "Access levels"). /openapi.json publishes it per operation as
 * `x-vnp-access`, the auth-matrix test reads it from there, and `GET /v1/auth/can-i`
 * answers from it — one table, never a second list that could drift.
 */
import type { FastifyInstance } from 'fastify';
import type { Access } from './auth.js';

type OpenApi = { paths?: Record<string, Record<string, Record<string, unknown>>> };

/** One operation: its method (upper case), OpenAPI path (`/v1/interfaces/{name}`) and access. */
export interface RouteAccess {
  method: string;
  path: string;
  access: Access;
}

export interface RouteAccessTable {
  /** Every operation registered so far (HEAD, which Fastify adds to each GET, left out). */
  routes(): RouteAccess[];
  /** Writes `x-vnp-access` into an OpenAPI document (for @fastify/swagger's `transformObject`). */
  publish(doc: OpenApi): OpenApi;
}

/**
 * Collect the access level of every route registered from now on.
 *
 * @example const access = collectRouteAccess(app); // before registering routes
 */
export function collectRouteAccess(app: FastifyInstance): RouteAccessTable {
  const byOperation = new Map<string, RouteAccess>();
  app.addHook('onRoute', (route) => {
    // As auth.ts's accessOf: an undeclared /v1 route is admin-only (fail closed).
    const access = route.config?.access ?? (route.url.startsWith('/v1') ? 'admin' : 'public');
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const m of [route.method].flat()) {
      if (m === 'HEAD') continue;
      byOperation.set(`${m.toLowerCase()} ${path}`, { method: m, path, access });
    }
  });
  return {
    routes: () => [...byOperation.values()],
    publish(doc) {
      for (const [path, ops] of Object.entries(doc.paths ?? {}))
        for (const [method, op] of Object.entries(ops)) {
          const access = byOperation.get(`${method} ${path}`)?.access;
          if (access !== undefined) op['x-vnp-access'] = access;
        }
      return doc;
    },
  };
}
