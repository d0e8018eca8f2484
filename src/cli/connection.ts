/**
 * Which manager a CLI run talks to, with which token and CA: flags, then the context
 * named by `--context`, then the environment (`VNP_SERVER`, `VNP_TOKEN`,
 * `VNP_CA_FILE`), then the config file's current-context, then the data directory's
 * admin token (src/client/credentials.ts) — docs/cli.md, "Contexts".
 */
import { existsSync, readFileSync } from 'node:fs';
import { checkToken } from '../client/credentials.js';
import { VnpError } from '../model/errors.js';
import {
  configPath,
  contextPath,
  findContext,
  loadConfig,
  type CliConfig,
  type CliContextEntry,
} from './config-file.js';

/** The connection flags of a run (`--server`, `--token`, `--ca-file`, `--context`). */
export interface ConnectionFlags {
  server?: string;
  token?: string;
  caFile?: string;
  context?: string;
}

/** What credentials.ts resolves further: explicit values win, the rest falls through. */
export interface Connection {
  server?: string;
  token?: string;
  caFile?: string;
  /** The context used, if any. */
  context?: string;
}

/**
 * Merge flags, contexts and environment into the values resolveCredentials takes as flags.
 *
 * @example resolveConnection({ context: 'prod' }, { HOME: '/home/a' }) // { server: 'https://m1:7400', token: '…', … }
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
): Connection {
  const path = configPath(env);
  if (flags.context !== undefined) {
    if (path === undefined)
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        '--context: no config file (set HOME, XDG_CONFIG_HOME or VNP_CONFIG)',
        {
          field: 'context',
        },
      );
    const config = loadConfig(path);
    const c = findContext(config, flags.context);
    return {
      server: flags.server ?? c.server,
      token: flags.token ?? contextToken(config, c),
      caFile: flags.caFile ?? caOf(config, c),
      context: c.name,
    };
  }
  const config = path !== undefined && existsSync(path) ? loadConfig(path) : undefined;
  const current = config?.currentContext;
  if (config === undefined || current === undefined) return { ...flags };
  const c = findContext(config, current);
  const set = (v: string | undefined) => v !== undefined && v.trim() !== '';
  return {
    server: flags.server ?? (set(env.VNP_SERVER) ? undefined : c.server),
    token: flags.token ?? (env.VNP_TOKEN !== undefined ? undefined : contextToken(config, c)),
    caFile: flags.caFile ?? (set(env.VNP_CA_FILE) ? env.VNP_CA_FILE : caOf(config, c)),
    context: c.name,
  };
}

function caOf(config: CliConfig, c: CliContextEntry): string | undefined {
  return c.caFile === undefined ? undefined : contextPath(config, c.caFile);
}

/** The token of a context's token-file (undefined without one: later sources apply). */
function contextToken(config: CliConfig, c: CliContextEntry): string | undefined {
  if (c.tokenFile === undefined) return undefined;
  const file = contextPath(config, c.tokenFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `context ${c.name}: token-file ${file}: ${(e as Error).message}`,
      { field: 'token-file', file: config.path },
    );
  }
  return checkToken(text, `context ${c.name} token-file ${file}`);
}
