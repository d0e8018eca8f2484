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
  /** `VNP_TLS_CERT` + `VNP_TLS_KEY`: PEM file paths; both or neither. */
  tls?: { certFile: string; keyFile: string };
  /** `VNP_LOG_LEVEL`, default `info`. */
  logLevel: LogLevel;
  /** `VNP_BODY_LIMIT` in bytes, default 8 MiB. */
  bodyLimit: number;
  /** How often token last-use times are written (`VNP_TOKEN_USE_FLUSH`, default 1m). */
  tokenUseFlushMs: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:7400';
export const DEFAULT_DATA_DIR = './.vnp';
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

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
  };
  const databaseUrl = value(env, 'VNP_DATABASE_URL');
  if (databaseUrl !== undefined) settings.databaseUrl = parseDatabaseUrl(databaseUrl);
  const tls = parseTls(value(env, 'VNP_TLS_CERT'), value(env, 'VNP_TLS_KEY'));
  if (tls) settings.tls = tls;
  return settings;
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
export function parseListen(raw: string): { host: string; port: number } {
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
    if (host === '' || host.includes(':')) throw bad('VNP_LISTEN', expected, raw);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw bad('VNP_LISTEN', expected, raw);
  return { host, port: Number(portText) };
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
