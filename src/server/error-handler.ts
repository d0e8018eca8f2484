/**
 * One place maps every failure to the wire form `{error: {code, message, details?}}`
 * with the registry's status (design.md §5). A 5xx is a bug: it is logged with the
 * request id, and the client gets that id to report.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VnpError } from '../model/errors.js';

/** What ajv reports for one failed keyword (the subset we read). */
interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Fastify's own errors we translate, by their `code`. */
const FASTIFY_CODES: Record<string, (e: FastifyError) => VnpError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new VnpError('VNP_ERR_BAD_JSON', 'the request body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new VnpError('VNP_ERR_BAD_JSON', 'the request body is empty but the content type says JSON'),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new VnpError('VNP_ERR_BODY_TOO_LARGE', 'the request body exceeds the size limit'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new VnpError(
      'VNP_ERR_UNSUPPORTED_MEDIA',
      'the request body must be JSON (Content-Type: application/json)',
    ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new VnpError('VNP_ERR_VALIDATION', 'the body size does not match Content-Length', {
      field: 'content-length',
    }),
};

/**
 * Translate an ajv issue list into a VNP_ERR_VALIDATION naming the field.
 *
 * @example
 *   fromValidation([{ instancePath: '/priority', message: 'must be integer' }], 'body')
 *   // VnpError VNP_ERR_VALIDATION "priority: must be integer", details.field 'priority'
 */
export function fromValidation(issues: AjvIssue[], context: string | undefined): VnpError {
  const issue = issues[0] ?? {};
  let field = pointerToField(issue.instancePath ?? '');
  const params = issue.params ?? {};
  let message = issue.message ?? 'is invalid';
  if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    field = joinField(field, params.additionalProperty);
    message = 'unknown field';
  } else if (issue.keyword === 'required' && typeof params.missingProperty === 'string') {
    field = joinField(field, params.missingProperty);
    message = 'is required';
  }
  const where = context && context !== 'body' ? `${context} ` : '';
  const shownField = field === '' ? (context ?? 'body') : field;
  return new VnpError('VNP_ERR_VALIDATION', `${where}${shownField}: ${message}`, {
    field: shownField,
    ...(context ? { in: context } : {}),
    expected: message,
  });
}

/** `/ingress/0/ports` → `ingress[0].ports`. */
function pointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : joinField(acc, part)), '');
}

function joinField(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/**
 * Map any thrown value to a VnpError; unknown errors become VNP_ERR_INTERNAL.
 *
 * @example
 *   toVnpError(new Error('boom'), 'req-1').code // 'VNP_ERR_INTERNAL'
 */
export function toVnpError(err: unknown, requestId: string): VnpError {
  if (err instanceof VnpError) return err;
  const fe = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation))
    return fromValidation(fe.validation, fe.validationContext);
  const translate = fe && typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
  if (translate) return translate(fe);
  // Any other 4xx Fastify raises (e.g. a malformed header) is still the client's doing.
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new VnpError('VNP_ERR_VALIDATION', fe.message, {
      field: 'request',
      fastifyCode: fe.code,
    });
  }
  return new VnpError('VNP_ERR_INTERNAL', `internal error; report request id ${requestId}`, {
    requestId,
  });
}

/** Which methods each registered path pattern takes (to tell 405 from 404). */
class RouteMethods {
  /** Methods by route URL, as registered; matched only when a request finds no route. */
  private readonly byUrl = new Map<string, Set<string>>();
  /** Built on the first miss: start-up registers every route, few requests miss. */
  private patterns: { re: RegExp; methods: Set<string> }[] | undefined;

  add(url: string, method: string | string[]): void {
    let methods = this.byUrl.get(url);
    if (!methods) this.byUrl.set(url, (methods = new Set()));
    for (const m of Array.isArray(method) ? method : [method]) methods.add(m);
    this.patterns = undefined;
  }

  methodsFor(path: string): string[] {
    this.patterns ??= [...this.byUrl].map(([url, methods]) => {
      const source = url
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      return { re: new RegExp(`^${source}/?$`), methods };
    });
    const out = new Set<string>();
    for (const p of this.patterns) if (p.re.test(path)) p.methods.forEach((m) => out.add(m));
    return [...out].sort();
  }
}

/**
 * Install the error handler and the not-found handler on the root instance.
 *
 * @example
 *   installErrorHandling(app); // before registering routes
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const vnp = toVnpError(err, String(request.id));
    if (vnp.status >= 500) {
      request.log.error({ err, requestId: request.id }, 'internal error (a bug)');
    } else {
      request.log.debug({ code: vnp.code, message: vnp.message }, 'request rejected');
    }
    return reply.status(vnp.status).type('application/json').send(vnp.toJSON());
  });
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routes.methodsFor(path);
    const err =
      allowed.length > 0
        ? new VnpError('VNP_ERR_METHOD_NOT_ALLOWED', `${path} does not take ${request.method}`, {
            method: request.method,
            path,
            allowed,
          })
        : new VnpError('VNP_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${path}`, {
            method: request.method,
            path,
          });
    if (allowed.length > 0) void reply.header('allow', allowed.join(', '));
    return reply.status(err.status).send(err.toJSON());
  });
}
