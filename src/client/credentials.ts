/**
 * Where the CLI (and other clients) find the manager and a token, in order:
 * explicit options (flags) > environment (`VNP_SERVER`, `VNP_TOKEN`, passed in by
 * the entry point — modules never read process.env) > `$VNP_DATA_DIR/admin.token`
 * (default `./.vnp/admin.token`), which the manager writes on first start.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { VnpError } from '../model/errors.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7400';
export const DEFAULT_DATA_DIR = '.vnp';
export const ADMIN_TOKEN_FILE = 'admin.token';

/** The environment variables credentials may come from. */
export interface CredentialEnv {
  VNP_SERVER?: string;
  VNP_TOKEN?: string;
  VNP_DATA_DIR?: string;
  /** The manager's own listen address: a fallback for the server when VNP_SERVER is unset. */
  VNP_LISTEN?: string;
}

export interface CredentialOptions {
  /** `--server` */
  server?: string;
  /** `--token` */
  token?: string;
  env?: CredentialEnv;
  /** Directory relative data dirs resolve against (default: the process's cwd). */
  cwd?: string;
  /** Injected file reader, for tests. */
  readFile?: (path: string) => string;
}

export interface Credentials {
  server: string;
  token?: string;
  /** Where the token came from: `flag`, `env`, `file:<path>`, or `none`. */
  tokenSource: string;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** `0.0.0.0:7400` / `[::]:7400` are listen addresses, not addresses to dial. */
function serverFromListen(listen: string): string {
  const dialable = listen
    .replace(/^0\.0\.0\.0(?=:|$)/, '127.0.0.1')
    .replace(/^\[::\](?=:|$)/, '[::1]');
  return /^[a-z]+:\/\//i.test(dialable) ? dialable : `http://${dialable}`;
}

/**
 * Resolve the server URL and token.
 *
 * @example
 *   resolveCredentials({ env: { VNP_SERVER: 'http://m1:7400', VNP_TOKEN: 't' } })
 *   // → { server: 'http://m1:7400', token: 't', tokenSource: 'env' }
 *   resolveCredentials({ env: {} })
 *   // → { server: 'http://127.0.0.1:7400', token: <contents of ./.vnp/admin.token>, tokenSource: 'file:…' }
 */
export function resolveCredentials(opts: CredentialOptions = {}): Credentials {
  const env = opts.env ?? {};
  const listen = nonEmpty(env.VNP_LISTEN);
  const server =
    nonEmpty(opts.server) ??
    nonEmpty(env.VNP_SERVER) ??
    (listen !== undefined ? serverFromListen(listen) : undefined) ??
    DEFAULT_SERVER;

  // A token given but empty (`--token ""`, `VNP_TOKEN=`) is a mistake, never "use
  // the admin token": only an unset one falls back to the file.
  if (opts.token !== undefined)
    return { server, token: checkToken(opts.token, '--token'), tokenSource: 'flag' };
  if (env.VNP_TOKEN !== undefined)
    return { server, token: checkToken(env.VNP_TOKEN, 'VNP_TOKEN'), tokenSource: 'env' };

  const file = adminTokenPath(env.VNP_DATA_DIR, opts.cwd);
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  try {
    const text = read(file);
    if (nonEmpty(text) !== undefined)
      return { server, token: checkToken(text, file), tokenSource: `file:${file}` };
  } catch (e) {
    if (e instanceof VnpError) throw e;
    // No file: the request goes out unauthenticated and the server says 401,
    // which names the problem better than guessing here.
  }
  return { server, tokenSource: 'none' };
}

/**
 * The admin token file of a data directory.
 *
 * @example
 *   adminTokenPath(undefined, '/srv') // → '/srv/.vnp/admin.token'
 */
export function adminTokenPath(dataDir: string | undefined, cwd?: string): string {
  const dir = nonEmpty(dataDir) ?? DEFAULT_DATA_DIR;
  const base = cwd ?? process.cwd();
  return isAbsolute(dir) ? join(dir, ADMIN_TOKEN_FILE) : resolve(base, dir, ADMIN_TOKEN_FILE);
}

/**
 * A bearer token as given: surrounding whitespace (a file's trailing newline) is
 * dropped; empty, or whitespace or control characters inside, is VNP_ERR_VALIDATION
 * naming where it came from — never a silent fallback or a transport error.
 *
 * @example
 *   checkToken('vnp_ab12_xyz\n', 'VNP_TOKEN') // 'vnp_ab12_xyz'
 *   checkToken('', '--token')                 // throws: --token is empty
 */
export function checkToken(raw: string, source: string): string {
  const token = raw.trim();
  if (token === '') {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${source} is empty: give a token, or leave it unset to use ${DEFAULT_DATA_DIR}/${ADMIN_TOKEN_FILE}`,
      { field: source, expected: 'a bearer token' },
    );
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\s\x00-\x1f\x7f]/.test(token)) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `${source}: a token is one word, this one contains whitespace or a control character (a newline?)`,
      { field: source, expected: 'a bearer token without whitespace' },
    );
  }
  return token;
}
