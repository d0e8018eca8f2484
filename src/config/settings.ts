/**
 * Manager configuration, parsed once from an env-like record (design.md §5).
 * Only this module and src/cli/main.ts read the environment; everything else
 * receives the typed `ServerSettings`.
 */
import { parseDuration } from '../model/duration.js';
import { VnpError } from '../model/errors.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** Typed manager settings. */
export interface ServerSettings {
  /** Where to listen (`VNP_LISTEN`, default `127.0.0.1:7400`). */
  listen: { host: string; port: number };
  /** Data directory (`VNP_DATA_DIR`, default `./.vnp`): PGlite files, admin.token. */
  dataDir: string;
  /** `VNP_DATABASE_URL`: PostgreSQL instead of the embedded store. */
  databaseUrl?: string;
  /**
   * `VNP_PGLITE_WORKER=1`: the embedded store runs PGlite on a worker thread
   * (docs/adr/0058-pglite-on-a-worker-thread.md). Off by default: on two cores it cost
   * more CPU per write than it freed on the main thread.
   */
  pgliteWorker: boolean;
  /** `VNP_TLS_CERT` + `VNP_TLS_KEY`: PEM file paths; both or neither. */
  tls?: { certFile: string; keyFile: string };
  /** `vnp server --tls-generate [--tls-san N]…`: make (or reuse) a CA and certificate in dataDir. */
  tlsGenerate?: { sans: string[] };
  /** `VNP_LOG_LEVEL`, default `info`. */
  logLevel: LogLevel;
  /** `VNP_BODY_LIMIT` in bytes, default 8 MiB. */
  bodyLimit: number;
  /** How often token last-use times are written (`VNP_TOKEN_USE_FLUSH`, default 1m). */
  tokenUseFlushMs: number;
  /** Requests per token (or per client address without one): `VNP_RATE_LIMIT`, `off` disables. */
  rateLimit?: RateLimit;
  /** Failed authentications per client address and per token id (`VNP_AUTH_FAIL_LIMIT`). */
  authFailLimit: RateLimit;
  /**
   * Denied (401/403) attempts written to the audit log per source per window
   * (`VNP_DENIED_AUDIT_LIMIT`; `off`: only the per-window count of them is written).
   */
  deniedAuditLimit: RateLimit;
  /** Origins allowed by CORS (`VNP_CORS_ORIGINS`, comma-separated); empty: CORS off. */
  corsOrigins: string[];
  /**
   * `/metrics`: behind a viewer token on the API address (default), or without a token
   * on its own address (`VNP_METRICS_LISTEN`, e.g. a loopback or management network).
   */
  metricsListen?: { host: string; port: number };
  /** `VNP_INSECURE=1`: allow plain HTTP on a non-loopback address (refused otherwise). */
  insecure: boolean;
  /** `VNP_FLOW_RETENTION=AGE[,ROWS]`: flow records kept (default `24h,1M`). */
  flowRetention?: { ageMs: number; maxRows: number };
  /**
   * `VNP_AGENT_MTLS` (or `vnp server --agent-mtls`): whether an agent token needs a client
   * certificate the agent CA issued for its host — `off` (default: none asked for),
   * `optional` (asked for; a presented one must match) or `required` (docs/security.md).
   */
  agentMtls: AgentMtls;
  /**
   * `VNP_AGENT_CA`: PEM file of the CA that issues agent client certificates; default
   * with `--tls-generate`: the generated `tls-ca.pem` (run-server.ts fills it in).
   */
  agentCaFile?: string;
}

export const AGENT_MTLS_MODES = ['off', 'optional', 'required'] as const;
export type AgentMtls = (typeof AGENT_MTLS_MODES)[number];

/** At most `max` in every window of `windowMs`. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:7400';
export const DEFAULT_DATA_DIR = './.vnp';
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;
/**
 * Per token: a cap on a runaway or stolen token, far above what one client needs (the
 * server benchmark drives ~4,300 checks/s through one token on 2 cores).
 */
export const DEFAULT_RATE_LIMIT = '100000/10s';
/** Guesses per client address and per token id: scrypt costs ~20 ms each. */
export const DEFAULT_AUTH_FAIL_LIMIT = '30/1m';
/** Denied attempts audited per source (address + token); 4× that for all sources together. */
export const DEFAULT_DENIED_AUDIT_LIMIT = '5/1m';

type Env = Record<string, string | undefined>;

/**
 * Parse the manager settings from an environment record; throws VNP_ERR_VALIDATION
 * naming the variable on a bad value.
 *
 * @example
 *   const s = parseSettings({ VNP_LISTEN: '0.0.0.0:7400' }); // s.listen.port === 7400
 */
export function parseSettings(env: Env): ServerSettings {
  const settings: ServerSettings = {
    listen: parseListen(value(env, 'VNP_LISTEN') ?? DEFAULT_LISTEN),
    dataDir: value(env, 'VNP_DATA_DIR') ?? DEFAULT_DATA_DIR,
    logLevel: parseLogLevel(value(env, 'VNP_LOG_LEVEL') ?? 'info'),
    bodyLimit: parseBodyLimit(value(env, 'VNP_BODY_LIMIT')),
    tokenUseFlushMs: durationOf(env, 'VNP_TOKEN_USE_FLUSH', '1m', { min: 100, max: 3_600_000 }),
    authFailLimit: parseRateLimit(
      'VNP_AUTH_FAIL_LIMIT',
      value(env, 'VNP_AUTH_FAIL_LIMIT') ?? DEFAULT_AUTH_FAIL_LIMIT,
    )!,
    deniedAuditLimit: parseRateLimit(
      'VNP_DENIED_AUDIT_LIMIT',
      value(env, 'VNP_DENIED_AUDIT_LIMIT') ?? DEFAULT_DENIED_AUDIT_LIMIT,
    ) ?? { max: 0, windowMs: 60_000 },
    corsOrigins: parseOrigins(value(env, 'VNP_CORS_ORIGINS')),
    insecure: parseFlag('VNP_INSECURE', value(env, 'VNP_INSECURE')),
    pgliteWorker: parseFlag('VNP_PGLITE_WORKER', value(env, 'VNP_PGLITE_WORKER')),
    agentMtls: parseAgentMtls(value(env, 'VNP_AGENT_MTLS')),
  };
  const agentCa = value(env, 'VNP_AGENT_CA');
  if (agentCa !== undefined) {
    // A CA set while mTLS is off would look like protection that is not there.
    if (settings.agentMtls === 'off')
      throw bad('VNP_AGENT_CA', 'VNP_AGENT_MTLS=optional or required with it', agentCa);
    settings.agentCaFile = agentCa;
  }
  const rate = parseRateLimit('VNP_RATE_LIMIT', value(env, 'VNP_RATE_LIMIT') ?? DEFAULT_RATE_LIMIT);
  if (rate) settings.rateLimit = rate;
  const metrics = value(env, 'VNP_METRICS_LISTEN');
  if (metrics !== undefined) settings.metricsListen = parseListen(metrics, 'VNP_METRICS_LISTEN');
  const databaseUrl = value(env, 'VNP_DATABASE_URL');
  if (databaseUrl !== undefined) settings.databaseUrl = parseDatabaseUrl(databaseUrl);
  const tls = parseTls(value(env, 'VNP_TLS_CERT'), value(env, 'VNP_TLS_KEY'));
  if (tls) settings.tls = tls;
  const flows = value(env, 'VNP_FLOW_RETENTION');
  if (flows !== undefined) settings.flowRetention = parseFlowRetention(flows);
  return settings;
}

/**
 * `AGE[,ROWS]`: how long and how many flow records are kept; ROWS takes k and M.
 *
 * @example parseFlowRetention('2h,500k') // { ageMs: 7200000, maxRows: 500000 }
 */
export function parseFlowRetention(text: string): { ageMs: number; maxRows: number } {
  const name = 'VNP_FLOW_RETENTION';
  const [age, rows, extra] = text.split(',').map((s) => s.trim());
  const m = /^(\d+)([kM]?)$/.exec(rows ?? '1M');
  const maxRows = m ? Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'k' ? 1e3 : 1) : NaN;
  if (extra !== undefined || !Number.isSafeInteger(maxRows) || maxRows < 1 || maxRows > 1e9)
    throw bad(name, 'AGE[,ROWS], e.g. 24h,1M (ROWS 1..1000M, with k or M)', text);
  return { ageMs: parseDuration(age ?? '', name, { min: 60_000 }), maxRows };
}

/** A duration variable (see model/duration.ts), named in its error. */
function durationOf(
  env: Env,
  name: string,
  fallback: string,
  bounds: { min?: number; max?: number },
): number {
  return parseDuration(value(env, name) ?? fallback, name, bounds);
}

/** Empty strings count as unset (`VNP_X= vnp server` must not mean "the empty path"). */
function value(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function bad(variable: string, expected: string, got: string): VnpError {
  return new VnpError(
    'VNP_ERR_VALIDATION',
    `${variable}: expected ${expected}, got ${JSON.stringify(got)}`,
    {
      field: variable,
      expected,
    },
  );
}

/**
 * `host:port`, `[v6]:port` or a bare port (then host 127.0.0.1).
 *
 * @example
 *   parseListen('[::1]:7400') // { host: '::1', port: 7400 }
 */
export function parseListen(raw: string, variable = 'VNP_LISTEN'): { host: string; port: number } {
  const expected = 'HOST:PORT, [IPV6]:PORT or PORT (port 0..65535)';
  let host = '127.0.0.1';
  let portText = raw;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(raw);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (raw.includes(':')) {
    const at = raw.lastIndexOf(':');
    host = raw.slice(0, at);
    portText = raw.slice(at + 1);
    if (host === '' || host.includes(':')) throw bad(variable, expected, raw);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(variable, expected, raw);
  return { host, port: Number(portText) };
}

/**
 * `N/DURATION` (at most N per window), or `off` (undefined).
 *
 * @example
 *   parseRateLimit('VNP_RATE_LIMIT', '600/1m') // { max: 600, windowMs: 60000 }
 */
export function parseRateLimit(variable: string, raw: string): RateLimit | undefined {
  if (raw.toLowerCase() === 'off') return undefined;
  const m = /^(\d{1,9})\s*\/\s*(\S+)$/.exec(raw);
  if (!m || Number(m[1]) < 1) throw bad(variable, 'N/DURATION (e.g. 600/1m, 30/1m) or off', raw);
  return {
    max: Number(m[1]),
    windowMs: parseDuration(m[2]!, variable, { min: 1, max: 86_400_000 }),
  };
}

function parseAgentMtls(raw: string | undefined): AgentMtls {
  if (raw === undefined) return 'off';
  const mode = raw.toLowerCase() as AgentMtls;
  if (!AGENT_MTLS_MODES.includes(mode))
    throw bad('VNP_AGENT_MTLS', AGENT_MTLS_MODES.join(', '), raw);
  return mode;
}

function parseFlag(variable: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '0' || raw.toLowerCase() === 'false') return false;
  if (raw === '1' || raw.toLowerCase() === 'true') return true;
  throw bad(variable, '1 or 0', raw);
}

/** Comma-separated origins, each `scheme://host[:port]` exactly (no paths, no wildcards). */
function parseOrigins(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw.split(',').map((o) => {
    const origin = o.trim();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== origin || !/^https?:$/.test(url.protocol))
      throw bad('VNP_CORS_ORIGINS', 'comma-separated origins like https://ui.example.com', origin);
    return origin;
  });
}

function parseLogLevel(raw: string): LogLevel {
  const level = raw.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw bad('VNP_LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, raw);
  return level;
}

/** Bytes, or with a suffix: `512k`, `8m`, `1g` (binary units). */
function parseBodyLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_BODY_LIMIT;
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(raw);
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
  const n = m ? Number(m[1]) * (m[2] ? unit[m[2][0]!.toLowerCase() as 'k' | 'm' | 'g'] : 1) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw bad('VNP_BODY_LIMIT', 'a positive size in bytes (e.g. 8388608 or 8m)', raw);
  return n;
}

function parseDatabaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('VNP_DATABASE_URL', 'a postgres://user@host:port/db URL', raw);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw bad(
      'VNP_DATABASE_URL',
      'a postgres:// or postgresql:// URL',
      raw.replace(/:[^:@/]*@/, ':***@'),
    );
  }
  return raw;
}

function parseTls(cert: string | undefined, key: string | undefined): ServerSettings['tls'] {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined)
    throw bad('VNP_TLS_CERT', 'a PEM certificate path (VNP_TLS_KEY is set)', '');
  if (key === undefined)
    throw bad('VNP_TLS_KEY', 'a PEM private key path (VNP_TLS_CERT is set)', '');
  return { certFile: cert, keyFile: key };
}
