/**
 * CLI contexts, as kubeconfig's: `~/.config/vnp/config.yaml` (honouring
 * `$XDG_CONFIG_HOME`; `$VNP_CONFIG` names another file) holds named contexts — a
 * manager URL, a token file and a CA file each — and the current one. The file is
 * written 0600 in a 0700 directory (it names where secrets are; tokens themselves
 * stay in their files). Precedence is documented in docs/cli.md ("Contexts"):
 * flags > `--context NAME` > environment > current-context > the data dir's admin token.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { VnpError } from '../model/errors.js';
import { yaml } from './yaml.js';

/** One context: where a manager is and how to talk to it. */
export interface CliContextEntry {
  name: string;
  server?: string;
  /** A file holding the bearer token (relative paths: to the config file's directory). */
  tokenFile?: string;
  /** PEM CA certificate pinned for an https manager. */
  caFile?: string;
}

export interface CliConfig {
  /** Where it lives (also when it does not exist yet). */
  path: string;
  currentContext?: string;
  contexts: CliContextEntry[];
}

/** YAML keys of a context ↔ fields. */
const KEYS = {
  name: 'name',
  server: 'server',
  'token-file': 'tokenFile',
  'ca-file': 'caFile',
} as const;

/**
 * The config file's path.
 *
 * @example configPath({ HOME: '/home/a' }) // '/home/a/.config/vnp/config.yaml'
 */
export function configPath(env: Record<string, string | undefined>): string | undefined {
  if (env.VNP_CONFIG) return env.VNP_CONFIG;
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base === undefined ? undefined : join(base, 'vnp', 'config.yaml');
}

/**
 * Read the config (an absent file is an empty config); a malformed one is
 * VNP_ERR_VALIDATION naming the file, line and field.
 *
 * @example loadConfig('/home/a/.config/vnp/config.yaml').contexts[0]?.name // 'prod'
 */
export function loadConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path, contexts: [] };
    throw invalid(path, (e as Error).message);
  }
  return parseConfig(text, path);
}

/**
 * Parse config text.
 *
 * @example parseConfig('current-context: a\ncontexts: [{name: a, server: "http://m:7400"}]\n', 'f')
 */
export function parseConfig(text: string, path: string): CliConfig {
  const doc = yaml().parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    throw invalid(`${path}:${err.linePos?.[0].line ?? 1}`, err.message.split('\n')[0]!);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(path, 'expected a mapping');
  const top = raw as Record<string, unknown>;
  for (const k of Object.keys(top))
    if (k !== 'current-context' && k !== 'contexts')
      throw invalid(path, `unknown key "${k}" (expected current-context, contexts)`, k);
  const current = top['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string')
    throw invalid(path, 'current-context: expected a context name', 'current-context');
  const list = top.contexts ?? [];
  if (!Array.isArray(list)) throw invalid(path, 'contexts: expected a list', 'contexts');
  const contexts = list.map((c, i) => parseEntry(c, `${path}: contexts[${i}]`));
  const names = new Set<string>();
  for (const c of contexts) {
    if (names.has(c.name))
      throw invalid(path, `contexts: "${c.name}" is defined twice`, 'contexts');
    names.add(c.name);
  }
  return { path, contexts, ...(typeof current === 'string' ? { currentContext: current } : {}) };
}

function parseEntry(raw: unknown, where: string): CliContextEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid(where, 'expected a mapping with name, server, token-file, ca-file');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const field = KEYS[k as keyof typeof KEYS];
    if (field === undefined) {
      const hint = k === 'token' ? ' (put the token in a file and name it with token-file)' : '';
      throw invalid(
        where,
        `unknown key "${k}"${hint}; expected ${Object.keys(KEYS).join(', ')}`,
        k,
      );
    }
    if (typeof v !== 'string' || v === '')
      throw invalid(where, `${k}: expected a non-empty string`, k);
    out[field] = v;
  }
  if (out.name === undefined) throw invalid(where, 'name: required', 'name');
  return out as unknown as CliContextEntry;
}

/**
 * Write the config: 0600 in a 0700 directory, through a temporary file and a rename
 * (a crash never leaves half a file).
 *
 * @example saveConfig({ path, currentContext: 'a', contexts: [{ name: 'a', server: 'http://m:7400' }] })
 */
export function saveConfig(config: CliConfig): void {
  const body = {
    ...(config.currentContext !== undefined ? { 'current-context': config.currentContext } : {}),
    contexts: config.contexts.map((c) =>
      Object.fromEntries(
        Object.entries(KEYS)
          .filter(([, field]) => c[field] !== undefined)
          .map(([key, field]) => [key, c[field]]),
      ),
    ),
  };
  mkdirSync(dirname(config.path), { recursive: true, mode: 0o700 });
  const tmp = `${config.path}.${process.pid}.tmp`;
  writeFileSync(tmp, '# vnp CLI contexts: see `vnp config --help`\n' + yaml().stringify(body), {
    mode: 0o600,
  });
  chmodSync(tmp, 0o600);
  renameSync(tmp, config.path);
}

/**
 * A context by name, or VNP_ERR_NOT_FOUND naming the ones there are.
 *
 * @example findContext(config, 'prod').server // 'https://m1:7400'
 */
export function findContext(config: CliConfig, name: string): CliContextEntry {
  const c = config.contexts.find((x) => x.name === name);
  if (c !== undefined) return c;
  const known = config.contexts.map((x) => x.name);
  throw new VnpError(
    'VNP_ERR_NOT_FOUND',
    `no context named "${name}" in ${config.path}${known.length > 0 ? ` (contexts: ${known.join(', ')})` : ' (no contexts yet: vnp config set-context NAME --server URL)'}`,
    { field: 'context', name },
  );
}

/** A path of a context, resolved against the config file's directory. */
export function contextPath(config: CliConfig, file: string): string {
  return isAbsolute(file) ? file : resolve(dirname(config.path), file);
}

function invalid(where: string, message: string, field?: string): VnpError {
  return new VnpError('VNP_ERR_VALIDATION', `${where}: ${message}`, {
    field: field ?? 'config',
    file: where,
  });
}
