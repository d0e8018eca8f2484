/**
 * The manager's HTTP app (design.md §4–§5): Fastify with one plugin per API area
 * on top of the Manager (engine in memory, store as truth).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { ServerSettings } from '../config/settings.js';
import { VnpError } from '../model/errors.js';
import { lateStore, type Store } from '../store/index.js';
import { TokenAuthenticator, installAuth } from './auth.js';
import { checkAgentCert, clientCertOptions, installClientCertGate } from './agent-mtls.js';
import { DeniedAudit, installDeniedAudit } from './denied-audit.js';
import { installCommitWait } from './commit-wait.js';
import { installErrorHandling } from './error-handler.js';
import { lazySchemaCompilers, type LazySchemaCompilers } from './lazy-schema-compilers.js';
import { Manager } from './manager.js';
import { TokenUses } from './token-uses.js';
import { installHardening } from './hardening.js';
import { installMetrics } from './metrics.js';
import { installRequestGuard } from './request-guard.js';
import { collectRouteAccess } from './route-access.js';
import { hoistNamedSchemas, installOpenApiResponses } from './openapi.js';
import { JSON_VALUE } from './openapi-responses.js';
import { aboutRoutes } from './routes/about.js';
import { applyRoutes } from './routes/apply.js';
import { auditVerifyRoutes } from './routes/audit-verify.js';
import { importK8sRoutes } from './routes/import-k8s.js';
import { bulkTagRoutes } from './routes/bulk-tags.js';
import { eventRoutes } from './routes/events.js';
import { flowRoutes } from './routes/flows.js';
import { DEFAULT_FLOW_RETENTION, FlowHub } from './flows/flow-hub.js';
import { installFlowMetrics } from './flows/flow-metrics.js';
import { checkFlowBatch } from '../model/flow-validate.js';
import { healthRoutes } from './routes/health.js';
import { impactRoutes } from './routes/impact.js';
import { historyRoutes } from './routes/history.js';
import { identityRoutes } from './routes/identities.js';
import { interfaceOpsRoutes } from './routes/interface-ops.js';
import { pepRoutes } from './routes/peps.js';
import { hostRoutes } from './routes/hosts.js';
import { PepRegistry } from './distribution/pep-registry.js';
import { queryRoutes } from './routes/queries.js';
import { resourceRoutes } from './routes/resources.js';
import { revisionRoutes } from './routes/revisions.js';
import { settingsRoutes } from './routes/settings.js';
import { tokenRoutes } from './routes/tokens.js';
import { graphRoutes } from './routes/graph.js';
import { DEFAULT_WEB_ROOT, webUiRoutes } from './routes/web-ui.js';
import { whoamiRoutes } from './routes/whoami.js';

export interface BuildServerOptions {
  settings: ServerSettings;
  /**
   * A store, or one still opening: the app is then built while it opens and the model
   * loads once it did (docs/adr/0061-app-built-while-the-store-opens.md). The caller
   * closes it after `close()`.
   */
  store: Store | Promise<Store>;
  /** Clock for commits and the engine (tests inject one). */
  now?: () => number;
  /** The built web UI (default: dist/web of this checkout; docs/web.md). */
  webRoot?: string;
  /** Fastify logger option; default: pino at `settings.logLevel`. */
  logger?: FastifyServerOptions['logger'];
}

/** The options once the store is a Store (opened, or standing for one that opens). */
type BuildOptions = BuildServerOptions & { store: Store };

export interface BuiltServer {
  app: FastifyInstance;
  manager: Manager;
  auth: TokenAuthenticator;
  /** The flow intake (tests flush it). */
  flows: FlowHub;
  /** Denied (401/403) attempts, audited rate-limited (tests await `settled()`). */
  denials: DeniedAudit;
  /** The Prometheus registry (served at /metrics, or by run-server on VNP_METRICS_LISTEN). */
  metrics: Registry;
  /** Close the HTTP app (ending watch streams) and stop the manager; not the store. */
  close(): Promise<void>;
  /** Compile every route schema not compiled yet (they compile on first use; tests call this). */
  compileSchemas(): void;
}

function fastifyOptions(
  opts: BuildOptions,
  schemas: LazySchemaCompilers,
): FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } {
  const { settings } = opts;
  const clientAuth = agentCa(settings);
  return {
    schemaController: { compilersFactory: schemas.compilersFactory },
    logger: opts.logger ?? { level: settings.logLevel },
    bodyLimit: settings.bodyLimit,
    genReqId: () => randomUUID(),
    // Watch streams are long-lived: close must not wait for them.
    forceCloseConnections: true,
    // A path that does not decode (`%ZZ`, a lone surrogate) never reaches the error
    // handler: answer it in the same wire form.
    frameworkErrors: (err, request, reply) => {
      const e = new VnpError('VNP_ERR_VALIDATION', `url: ${err.message}`, {
        field: 'url',
        fastifyCode: err.code,
      });
      // The generic reply type of this hook cannot name our body: answer through the raw form.
      void (reply as unknown as FastifyReply)
        .code(e.status)
        .header('x-request-id', request.id)
        .send(e.toJSON());
    },
    ajv: {
      // Strict bodies: unknown fields are errors (not silently dropped), no type
      // coercion ("5" is not 5), no defaults injected behind the caller's back.
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
    ...(settings.tls
      ? {
          https: {
            cert: readFileSync(settings.tls.certFile),
            key: readFileSync(settings.tls.keyFile),
            ...(clientAuth ? clientCertOptions(clientAuth) : {}),
          },
        }
      : {}),
  };
}

/**
 * The agent CA's PEM when agent certificates are asked for; refuses a mode other than
 * `off` without TLS or without a CA (run-server.ts fills in the generated one).
 */
function agentCa(settings: ServerSettings): Buffer | undefined {
  if (settings.agentMtls === 'off') return undefined;
  if (!settings.tls || settings.agentCaFile === undefined) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `VNP_AGENT_MTLS=${settings.agentMtls}: needs TLS (--tls-generate, or VNP_TLS_CERT/VNP_TLS_KEY with VNP_AGENT_CA, the CA that issues agent certificates)`,
      { field: 'VNP_AGENT_MTLS' },
    );
  }
  return readFileSync(settings.agentCaFile);
}

/** What the request pipeline hands the route registrations. */
interface Pipeline {
  denials: DeniedAudit;
  access: ReturnType<typeof collectRouteAccess>;
  metrics: Registry;
}

/**
 * Everything a request passes before its route: errors, the denied audit, hardening,
 * request ids, the request guard, OpenAPI, the group-commit wait, auth and metrics.
 * Order matters: hooks run in the order they are added.
 */
async function installPipeline(
  app: FastifyInstance,
  opts: BuildOptions,
  manager: Manager,
  auth: TokenAuthenticator,
  now: () => number,
): Promise<Pipeline> {
  installErrorHandling(app);
  const denials = installDeniedAudit(
    app,
    (ctx) => manager.audit(ctx),
    now,
    opts.settings.deniedAuditLimit,
  );
  const gateFor = await installHardening(app, opts.settings);
  // Every answer names its request, so a report of any error can be found in the log.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // JSON depth and unstorable strings, in bodies, parameters and queries (400 naming the field).
  installRequestGuard(app);
  const access = collectRouteAccess(app);
  installOpenApiResponses(app);
  // While a group commit is in flight the model holds writes not yet durable: reads
  // wait for it, so nothing answers from state that could still be lost; writes queue
  // for the next group.
  installCommitWait(app, manager);
  await app.register(swagger, {
    transformObject: (doc) =>
      'openapiObject' in doc
        ? hoistNamedSchemas(access.publish(doc.openapiObject as never) as never)
        : doc.swaggerObject,
    openapi: {
      openapi: '3.0.3',
      info: { title: 'vnp manager API', version: '1', description: 'See docs/api.md' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { JsonValue: JSON_VALUE as never },
      },
      security: [{ bearer: [] }],
    },
  });
  const mtls = opts.settings.agentMtls;
  if (mtls !== 'off') installClientCertGate(app, denials);
  // An agent token without its certificate is no credential: refused before its role is.
  installAuth(app, auth, gateFor, (request, p) => checkAgentCert(mtls, request, p));
  const metrics = installMetrics(app, manager, {
    // On its own address (VNP_METRICS_LISTEN) the scraper needs no token; here it does.
    route: opts.settings.metricsListen === undefined,
  });
  return { denials, access, metrics };
}

/** The parts the route plugins are given. */
interface RouteParts {
  manager: Manager;
  auth: TokenAuthenticator;
  uses: TokenUses;
  peps: PepRegistry;
  hub: FlowHub;
  access: Pipeline['access'];
  webRoot: string;
}

/** One plugin per API area (the order is the order of the OpenAPI document). */
async function registerRoutes(app: FastifyInstance, parts: RouteParts): Promise<void> {
  const { manager, auth, uses, peps, hub, access } = parts;
  await app.register(healthRoutes, { manager });
  await app.register(resourceRoutes, { manager });
  await app.register(interfaceOpsRoutes, { manager });
  await app.register(bulkTagRoutes, { manager });
  await app.register(settingsRoutes, { manager });
  await app.register(applyRoutes, { manager });
  await app.register(importK8sRoutes, { manager });
  await app.register(queryRoutes, { manager });
  await app.register(historyRoutes, { manager });
  await app.register(auditVerifyRoutes, { manager });
  await app.register(tokenRoutes, { manager, auth, uses });
  await app.register(eventRoutes, { manager });
  await app.register(impactRoutes, { manager });
  await app.register(revisionRoutes, { manager });
  await app.register(pepRoutes, { manager, peps });
  await app.register(hostRoutes, {
    manager,
    peps,
    flows: (host, body) => hub.submit(host, checkFlowBatch(body, host)),
  });
  await app.register(flowRoutes, { manager, hub });
  await app.register(identityRoutes, { manager });
  await app.register(aboutRoutes, { manager, access });
  await app.register(whoamiRoutes);
  await app.register(graphRoutes, { manager });
  await app.register(webUiRoutes, { root: parts.webRoot });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
}

/**
 * Build (not listen) the manager app: loads the model from the store first.
 *
 * @example
 *   const { app, close } = await buildServer({ settings: parseSettings({}), store, logger: false });
 *   await app.listen({ port: 0 });
 */
export async function buildServer(options: BuildServerOptions): Promise<BuiltServer> {
  const late = options.store instanceof Promise ? lateStore(options.store) : undefined;
  const opts = late ? { ...options, store: late.store } : (options as BuildOptions);
  const now = opts.now ?? Date.now;
  const schemas = lazySchemaCompilers();
  const app = Fastify(fastifyOptions(opts, schemas)) as unknown as FastifyInstance;
  const manager = new Manager({ store: opts.store, now, log: app.log });
  const uses = new TokenUses(opts.store, now, opts.settings.tokenUseFlushMs, (err) =>
    app.log.warn({ err }, 'recording token last use failed'),
  );
  const auth = new TokenAuthenticator(opts.store, now, undefined, uses);
  const peps = new PepRegistry(now);
  const { denials, access, metrics } = await installPipeline(app, opts, manager, auth, now);
  const hub = new FlowHub({
    store: opts.store,
    now,
    retention: opts.settings.flowRetention ?? DEFAULT_FLOW_RETENTION,
    partitionsOf: (id) => manager.engine.identityInfo(id)?.partitions ?? [],
    onError: (err, what) => app.log.error({ err }, what),
  });
  installFlowMetrics(metrics, manager, hub);
  const webRoot = opts.webRoot ?? DEFAULT_WEB_ROOT;
  await registerRoutes(app, { manager, auth, uses, peps, hub, access, webRoot });

  try {
    await late?.opened;
    await manager.start();
    await app.ready();
    hub.start();
  } catch (err) {
    await app.close();
    await manager.close();
    throw err;
  }
  return {
    app,
    manager,
    auth,
    denials,
    metrics,
    flows: hub,
    async close() {
      await app.close();
      await hub.stop();
      await uses.flush();
      await manager.close();
    },
    compileSchemas: () => schemas.compileAll(),
  };
}
