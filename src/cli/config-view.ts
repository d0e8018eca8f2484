/**
 * `vnp config view`, as `kubectl config view`: the config file's contexts merged with
 * what this run's flags and environment make of them — the manager, CA file and token
 * a command would use, and where the token comes from. The token is redacted unless
 * `--raw` asks for it (docs/cli.md, "Contexts").
 */
import { existsSync } from 'node:fs';
import { resolveCredentials } from '../client/credentials.js';
import { configPath, contextPath, loadConfig, type CliConfig } from './config-file.js';
import { resolveConnection, type ConnectionFlags } from './connection.js';

/** What `config view` prints (YAML keys as in the config file). */
export interface ConfigView {
  /** The config file (null: no HOME, XDG_CONFIG_HOME or VNP_CONFIG). */
  file: string | null;
  'current-context'?: string;
  contexts: { name: string; server?: string; 'token-file'?: string; 'ca-file'?: string }[];
  /** What a command run with these flags and this environment uses. */
  'in-use': {
    context?: string;
    server: string;
    'ca-file'?: string;
    /** REDACTED, the token itself (--raw), or none. */
    token: string;
    'token-from': string;
  };
}

export interface ConfigViewOptions {
  flags: ConnectionFlags;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Show the token instead of REDACTED. */
  raw?: boolean;
  /** Only the context in use. */
  minify?: boolean;
}

/** Where the token in use comes from, in the words of docs/cli.md. */
function tokenFrom(
  opts: ConfigViewOptions,
  config: CliConfig | undefined,
  context: string | undefined,
  source: string,
): string {
  if (opts.flags.token !== undefined) return '--token';
  const c = config?.contexts.find((x) => x.name === context);
  if (source === 'flag' && c?.tokenFile !== undefined && config)
    return `context ${c.name} (token-file ${contextPath(config, c.tokenFile)})`;
  if (source === 'env') return 'VNP_TOKEN';
  if (source.startsWith('file:')) return `${source.slice(5)} (the data directory's admin token)`;
  return 'none (requests go out without a token)';
}

/**
 * The merged view of the config file and this run's flags and environment.
 *
 * @example configView({ flags: {}, env: { HOME: '/home/a' }, cwd: '/' })['in-use'].token // 'REDACTED'
 */
export function configView(opts: ConfigViewOptions): ConfigView {
  const path = configPath(opts.env);
  const config = path !== undefined && existsSync(path) ? loadConfig(path) : undefined;
  const conn = resolveConnection(opts.flags, opts.env);
  const creds = resolveCredentials({
    server: conn.server,
    token: conn.token,
    env: opts.env,
    cwd: opts.cwd,
  });
  const ca = conn.caFile ?? opts.env.VNP_CA_FILE;
  const contexts = (config?.contexts ?? [])
    .filter((c) => !opts.minify || c.name === conn.context)
    .map((c) => ({
      name: c.name,
      ...(c.server !== undefined ? { server: c.server } : {}),
      ...(c.tokenFile !== undefined ? { 'token-file': c.tokenFile } : {}),
      ...(c.caFile !== undefined ? { 'ca-file': c.caFile } : {}),
    }));
  const token = creds.token === undefined ? 'none' : opts.raw ? creds.token : 'REDACTED';
  return {
    file: path ?? null,
    ...(config?.currentContext !== undefined ? { 'current-context': config.currentContext } : {}),
    contexts,
    'in-use': {
      ...(conn.context !== undefined ? { context: conn.context } : {}),
      server: creds.server,
      ...(ca !== undefined && ca.trim() !== '' ? { 'ca-file': ca } : {}),
      token,
      'token-from': tokenFrom(opts, config, conn.context, creds.tokenSource),
    },
  };
}
