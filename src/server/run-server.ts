/**
 * `vnp server`: open the store, build the app, listen, and on first start create
 * the admin token (written to `$VNP_DATA_DIR/admin.token`, mode 0600, and
 * printed once). SIGINT/SIGTERM close gracefully: stop accepting, finish
 * in-flight writes, close the store.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerSettings } from '../config/settings.js';
import { openStore } from '../store/index.js';
import { VnpError } from '../model/errors.js';
import type { BuiltServer } from './app.js';
import { listenMetrics } from './metrics-listener.js';
import { ensureAdminToken } from './tokens.js';

export interface RunningServer extends BuiltServer {
  /** The URL the manager listens on (port resolved when 0 was asked). */
  url: string;
  /** Where `/metrics` is served without a token (VNP_METRICS_LISTEN), if set. */
  metricsUrl?: string;
  /** Close app, manager and store (what the signal handlers call). */
  stop(): Promise<void>;
}

/**
 * Write the bootstrap admin token: data dir 0700, file 0600.
 *
 * @example
 *   await writeAdminToken('./.vnp', 'vnp_ab12_…'); // ./.vnp/admin.token
 */
export async function writeAdminToken(dataDir: string, token: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'admin.token');
  // A leftover file (the database was reset) holds a dead token: replace it. Remove
  // first so the new file is created with mode 0600 rather than inheriting a mode.
  await rm(file, { force: true });
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** The bootstrap admin token this data directory holds, if it still has the file. */
async function adminTokenOf(dataDir: string): Promise<string | undefined> {
  try {
    const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

/**
 * The web UI's address, signed in as Jupyter does: the token rides in the fragment,
 * which the browser never sends to a server (docs/web.md).
 *
 * @example signInLine('http://127.0.0.1:7400', 'vnp_ab_cd') // 'vnp: web UI: http://127.0.0.1:7400/#token=vnp_ab_cd'
 */
export function signInLine(address: string, token: string | undefined): string {
  return token === undefined
    ? `vnp: web UI: ${address}/ (sign in with a token)`
    : `vnp: web UI: ${address}/#token=${token}`;
}

/** Whether an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Tokens travel in every request: plain HTTP is refused on any address other hosts
 * can reach, unless TLS is configured or VNP_INSECURE=1 says it is meant.
 */
function refusePlainHttp(settings: ServerSettings): void {
  if (settings.tls || settings.insecure || isLoopback(settings.listen.host)) return;
  throw new VnpError(
    'VNP_ERR_VALIDATION',
    `VNP_LISTEN: refusing plain HTTP on ${settings.listen.host} (bearer tokens would cross the network in clear text): set VNP_TLS_CERT and VNP_TLS_KEY, or VNP_INSECURE=1 to accept it`,
    { field: 'VNP_LISTEN', expected: 'TLS on a non-loopback address' },
  );
}

/**
 * With --tls-generate: serve the data directory's generated certificate, and (agent
 * mTLS on, no VNP_AGENT_CA) verify agent certificates against its CA.
 */
export async function generatedTls(
  settings: ServerSettings,
  print: (line: string) => void,
): Promise<ServerSettings> {
  if (!settings.tlsGenerate) return settings;
  if (settings.tls) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      '--tls-generate: VNP_TLS_CERT/VNP_TLS_KEY are set too (use one or the other)',
      { field: 'tls-generate' },
    );
  }
  const { ensureGeneratedTls, tlsNames } = await import('./tls-generate.js');
  const names = tlsNames(settings.listen.host, settings.tlsGenerate.sans);
  const made = await ensureGeneratedTls(settings.dataDir, names);
  print(
    `vnp: TLS: ${made.created ? 'created' : 'reusing'} CA certificate ${made.caFile} (clients: --ca-file ${made.caFile})`,
  );
  return {
    ...settings,
    tls: { certFile: made.certFile, keyFile: made.keyFile },
    // Agent certificates are issued by the same CA (vnp cert issue --data-dir).
    ...(settings.agentMtls !== 'off' && settings.agentCaFile === undefined
      ? { agentCaFile: made.caFile }
      : {}),
  };
}

/**
 * Run the manager until a signal arrives.
 *
 * @example
 *   await runServer(parseSettings(process.env)); // in src/cli/main.ts
 */
export async function runServer(
  settings: ServerSettings,
  opts: { handleSignals?: boolean; print?: (line: string) => void } = {},
): Promise<RunningServer> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  settings = await generatedTls(settings, print);
  refusePlainHttp(settings);
  await mkdir(settings.dataDir, { recursive: true, mode: 0o700 });
  const opening = openStore({
    dataDir: settings.dataDir,
    ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
    ...(settings.pgliteWorker ? { worker: true } : {}),
  });
  opening.catch(() => undefined); // awaited below; never unhandled meanwhile
  // The app (Fastify, its plugins, the routes: most of the bundle) loads and is built
  // while PGlite opens: in the gaps of its open, or beside it with VNP_PGLITE_WORKER
  // (docs/adr/0047-bundled-start.md, docs/adr/0061-app-built-while-the-store-opens.md);
  // the model loads once it opened.
  let built: BuiltServer;
  try {
    const { buildServer } = await import('./app.js');
    built = await buildServer({ settings, store: opening });
  } catch (err) {
    await opening.then(
      (s) => s.close(),
      () => undefined, // the open failed: nothing to close (err says why, or the open's error does)
    );
    throw err;
  }
  const store = await opening;
  const { app, manager } = built;
  const first = await ensureAdminToken(manager);
  if (first) {
    const file = await writeAdminToken(settings.dataDir, first.token);
    print(`vnp: first start: admin token written to ${file} (shown once):`);
    print(first.token);
  }
  const address = await app.listen({ host: settings.listen.host, port: settings.listen.port });
  const metrics = settings.metricsListen
    ? await listenMetrics(built.metrics, settings.metricsListen)
    : undefined;
  if (metrics) app.log.info({ address: metrics.url }, 'vnp metrics listening');
  print(signInLine(address, first?.token ?? (await adminTokenOf(settings.dataDir))));
  if (settings.agentMtls !== 'off')
    print(
      `vnp: agent client certificates ${settings.agentMtls} (CA ${settings.agentCaFile ?? '?'}; issue: vnp cert issue --host NAME)`,
    );
  app.log.info(
    { address, backend: store.backend, revision: manager.revision },
    'vnp manager listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await metrics?.close();
      await built.close();
      await store.close();
    })());
  if (opts.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals): void => {
      app.log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { ...built, url: address, ...(metrics ? { metricsUrl: metrics.url } : {}), stop };
}
