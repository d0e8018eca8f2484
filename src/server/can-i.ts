/**
 * `vnp auth can-i VERB RESOURCE` answered from the route-access table (the same one
 * /openapi.json publishes and the auth-matrix test checks), like `kubectl auth can-i`:
 * the verb picks HTTP methods, the resource the routes under `/v1/RESOURCE`
 * (`interfaces`, `interfaces/tags` for a subresource, `tokens`, `hosts/ack`).
 */
import { VnpError } from '../model/errors.js';
import { allows, type Principal } from './auth.js';
import type { RouteAccess } from './route-access.js';

/** kubectl verbs → HTTP methods (an HTTP method names itself). */
const VERB_METHODS: Record<string, readonly string[]> = {
  get: ['GET'],
  list: ['GET'],
  watch: ['GET'],
  create: ['POST'],
  update: ['PUT'],
  patch: ['PATCH'],
  delete: ['DELETE'],
  '*': ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
};

export interface CanIRoute extends RouteAccess {
  allowed: boolean;
}

export interface CanIAnswer {
  allowed: boolean;
  role: Principal['role'];
  /** The routes the question covers, each with its own answer. */
  routes: CanIRoute[];
  /** Why, in one line. */
  reason: string;
}

/**
 * The routes a resource names: `a` → `/v1/a`, `/v1/a/{x}`; `a/b` → `/v1/a/b`, `/v1/a/{x}/b`.
 *
 * @example routePattern('interfaces/tags').test('/v1/interfaces/{name}/tags') // true
 */
export function routePattern(resource: string): RegExp {
  const [a, b, ...rest] = resource.split('/');
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (!a || rest.length > 0)
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `resource: expected NAME or NAME/SUBRESOURCE, got "${resource}"`,
      {
        field: 'resource',
      },
    );
  if (b === undefined) return new RegExp(`^/v1/${esc(a)}(/\\{[^}]+\\})?$`);
  return new RegExp(`^/v1/${esc(a)}(/\\{[^}]+\\})?/${esc(b)}$`);
}

/**
 * May this principal do VERB on RESOURCE? Yes when every route the question covers
 * admits its role (an agent token: on its own host only, when `host` names another).
 *
 * @example canI(table, { id: 'x', role: 'viewer' }, 'get', 'interfaces').allowed // true
 */
export function canI(
  table: readonly RouteAccess[],
  principal: Principal,
  verb: string,
  resource: string,
  host?: string,
): CanIAnswer {
  const methods =
    VERB_METHODS[verb.toLowerCase()] ?? (/^[A-Z]+$/i.test(verb) ? [verb.toUpperCase()] : []);
  const pattern = routePattern(resource.toLowerCase());
  const routes = table.filter((r) => methods.includes(r.method) && pattern.test(r.path));
  if (routes.length === 0) {
    const known = [
      ...new Set(table.filter((r) => r.path.startsWith('/v1/')).map((r) => r.path.split('/')[2]!)),
    ].sort();
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `no route answers ${verb} ${resource}; verbs: ${Object.keys(VERB_METHODS).join(', ')}; resources: ${known.join(', ')}`,
      { field: 'resource', expected: known.join(', ') },
    );
  }
  const answered = routes.map((r) => ({ ...r, allowed: admits(r, principal, host) }));
  const allowed = answered.every((r) => r.allowed);
  const denied = answered.filter((r) => !r.allowed);
  const reason = allowed
    ? `role ${principal.role} may ${answered.map((r) => `${r.method} ${r.path}`).join(', ')}`
    : `role ${principal.role} may not ${denied.map((r) => `${r.method} ${r.path} (${r.access})`).join(', ')}`;
  return { allowed, role: principal.role, routes: answered, reason };
}

function admits(route: RouteAccess, p: Principal, host: string | undefined): boolean {
  if (!allows(route.access, p.role)) return false;
  // An agent token acts for its own host only (auth matrix: `own`).
  if (p.role === 'agent' && route.path.includes('{host}') && host !== undefined)
    return host === p.host;
  return true;
}
