/**
 * HTTP hardening of the manager (docs/security.md): security headers (helmet: a strict
 * CSP without 'unsafe-inline', nosniff, HSTS when serving TLS), `Cache-Control:
 * no-store` on every API answer, CORS only for configured origins, a request rate
 * per token, and a failed-authentication limit per client address and per token id
 * checked before the costly scrypt verification. Limits use @fastify/rate-limit's
 * in-memory store: they are per manager.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { RateLimit, ServerSettings } from '../config/settings.js';
import { formatDuration } from '../model/duration.js';
import { VnpError } from '../model/errors.js';
import type { FailureGate } from './auth.js';

/**
 * The Content-Security-Policy of every answer, strict enough for a web UI served from
 * the manager itself: bundled scripts and styles from 'self' only, no inline code, no
 * framing. `upgrade-insecure-requests` only when the manager serves TLS.
 */
export function cspDirectives(tls: boolean): Record<string, string[] | null> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    scriptSrcAttr: ["'none'"],
    upgradeInsecureRequests: tls ? [] : null,
  };
}

/**
 * The headers helmet sets for `options`, computed once. They depend only on the
 * settings (no nonces), and @fastify/helmet built helmet's middleware again on every
 * request (about 2% of the main thread under write load).
 *
 * @example securityHeaders({ hsts: false })['x-content-type-options'] // 'nosniff'
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: () => undefined,
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err) => {
    failure = err;
  });
  if (failure !== undefined) throw failure;
  return headers;
}

const kGateKey = Symbol('vnp.gateKey');
type Keyed = FastifyRequest & { [kGateKey]?: string };

/** The limiter @fastify/rate-limit builds (`app.createRateLimit`). */
type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

function limited(what: string, limit: RateLimit, retryAfterSeconds: number): VnpError {
  return new VnpError(
    'VNP_ERR_RATE_LIMITED',
    `${what}: at most ${limit.max} per ${formatDuration(limit.windowMs)}; retry in ${retryAfterSeconds} s`,
    { retryAfterSeconds, max: limit.max, window: formatDuration(limit.windowMs) },
  );
}

/**
 * Install headers, CORS and rate limits. Call before any route is registered (the
 * rate limit attaches to routes as they are added). Returns the failed-authentication
 * gate factory for installAuth.
 *
 * @example
 *   const gateFor = await installHardening(app, settings);
 *   installAuth(app, auth, gateFor);
 */
export async function installHardening(
  app: FastifyInstance,
  settings: ServerSettings,
): Promise<(request: FastifyRequest, reply: FastifyReply) => FailureGate> {
  const tls = settings.tls !== undefined;
  // On the raw response, as helmet does: answers written raw (streams) carry them too.
  const headers = Object.entries(
    securityHeaders({
      contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(tls) },
      hsts: tls ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    }),
  );
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    // Answers carry tokens' results and the model: no cache (browser or proxy) keeps them.
    void reply.header('cache-control', 'no-store');
    done();
  });
  if (settings.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: settings.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      credentials: false,
      maxAge: 600,
    });
  }
  const perToken = settings.rateLimit;
  await app.register(rateLimit, {
    global: perToken !== undefined,
    // After authentication: a request counts against the token that made it, so
    // nobody can spend another token's budget with its (public) id.
    hook: 'preHandler',
    max: perToken?.max ?? 1,
    timeWindow: perToken?.windowMs ?? 1000,
    cache: 100_000,
    keyGenerator: (request) =>
      request.principal ? `token:${request.principal.id}` : `ip:${request.ip}`,
    errorResponseBuilder: (request, ctx) =>
      limited(
        request.principal ? `requests of token ${request.principal.id}` : 'requests',
        perToken ?? { max: ctx.max, windowMs: ctx.ttl },
        Math.ceil(ctx.ttl / 1000),
      ),
  });
  const fails = settings.authFailLimit;
  const limiter: Limiter = app.createRateLimit({
    max: fails.max,
    timeWindow: fails.windowMs,
    keyGenerator: (request) => (request as Keyed)[kGateKey] ?? `fail-ip:${request.ip}`,
  });
  return (request, reply) => failureGate(request, reply, limiter, fails);
}

/** The keys a failed authentication counts against: the client, and the token id named. */
function keysOf(request: FastifyRequest, id: string | undefined): string[] {
  return [`fail-ip:${request.ip}`, ...(id !== undefined ? [`fail-id:${id}`] : [])];
}

function failureGate(
  request: FastifyRequest,
  reply: FastifyReply,
  limiter: Limiter,
  limit: RateLimit,
): FailureGate {
  const run = async (key: string, increment: boolean) => {
    (request as Keyed)[kGateKey] = key;
    try {
      return await limiter(request, { increment });
    } finally {
      (request as Keyed)[kGateKey] = undefined;
    }
  };
  const refuse = (who: string, retryAfter: number): never => {
    void reply.header('retry-after', String(retryAfter));
    throw limited(`failed authentications for ${who}`, limit, retryAfter);
  };
  return {
    async check(id) {
      const [ipKey, idKey] = keysOf(request, id);
      const byIp = await run(ipKey!, false);
      if (!byIp.isAllowed && byIp.remaining === 0)
        refuse(`client ${request.ip}`, byIp.ttlInSeconds);
      // A token id over its limit stays usable from clean addresses: only a client that
      // has failed in this window is refused for it. Otherwise anyone who read an id in
      // the audit log could lock its owner out of every manager that has not verified it.
      const failedHere = !byIp.isAllowed && byIp.remaining < limit.max;
      if (idKey === undefined || !failedHere) return;
      const byId = await run(idKey, false);
      if (!byId.isAllowed && byId.remaining === 0) refuse(`token id ${id}`, byId.ttlInSeconds);
    },
    async failed(id) {
      for (const key of keysOf(request, id)) await run(key, true);
    },
  };
}
