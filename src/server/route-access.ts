/**
 * Publishes each operation's access level in /openapi.json as `x-vnp-access` (the
 * levels of src/server/auth.ts; which roles each admits is the table in
 * docs/security.md, "Access levels"), so the auth-matrix test and clients read the
 * rules from the API itself instead of a second list that could drift.
 */
import type { FastifyInstance } from 'fastify';
import type { Access } from './auth.js';

type OpenApi = { paths?: Record<string, Record<string, Record<string, unknown>>> };

/**
 * Collect the access level of every route registered from now on; returns the
 * transform that writes them into an OpenAPI document (for @fastify/swagger's
 * `transformObject`).
 *
 * @example const withAccess = collectRouteAccess(app); // before registering routes
 */
export function collectRouteAccess(app: FastifyInstance): (doc: OpenApi) => OpenApi {
  const byOperation = new Map<string, Access>();
  app.addHook('onRoute', (route) => {
    // As auth.ts's accessOf: an undeclared /v1 route is admin-only (fail closed).
    const access = route.config?.access ?? (route.url.startsWith('/v1') ? 'admin' : 'public');
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const m of [route.method].flat()) byOperation.set(`${m.toLowerCase()} ${path}`, access);
  });
  return (doc) => {
    for (const [path, ops] of Object.entries(doc.paths ?? {}))
      for (const [method, op] of Object.entries(ops)) {
        const access = byOperation.get(`${method} ${path}`);
        if (access !== undefined) op['x-vnp-access'] = access;
      }
    return doc;
  };
}
