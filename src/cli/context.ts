/**
 * What every command receives: the injected process surface (env, streams, cwd)
 * and a lazily built client. Commands never touch `process` directly, so the whole
 * CLI runs in-process in tests. The client modules are imported on first use:
 * `vnp --help` and argument errors never load them (see docs/adr/0010-compiled-cli.md).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { VnpClient } from '../client/client.js';
import { VnpError } from '../model/errors.js';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** The process surface the CLI runs against. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: OutStream;
  stderr: OutStream;
  cwd: string;
  /** Reads all of stdin (for `apply -f -`). */
  readStdin?: () => string;
}

/** Global options (`--server`, `--token`) merged with the command's own. */
export type GlobalOptions = { server?: string; token?: string; caFile?: string; context?: string };

/** Per-invocation context. */
export interface CliContext {
  io: CliIo;
  /** A client for the resolved server and token (its modules load on first use). */
  client(cmd: Command): Promise<VnpClient>;
  out(text: string): void;
  err(text: string): void;
}

/**
 * Build the context of one CLI run.
 *
 * @example
 *   const ctx = createContext({ env: {}, stdout: process.stdout, stderr: process.stderr, cwd: '/' });
 */
export function createContext(io: CliIo): CliContext {
  return {
    io,
    async client(cmd: Command): Promise<VnpClient> {
      const [{ VnpClient }, { resolveCredentials }, { resolveConnection }] = await Promise.all([
        import('../client/client.js'),
        import('../client/credentials.js'),
        import('./connection.js'),
      ]);
      const g = resolveConnection(cmd.optsWithGlobals<GlobalOptions>(), io.env);
      const creds = resolveCredentials({
        server: g.server,
        token: g.token,
        env: io.env,
        cwd: io.cwd,
      });
      const ca = readCaFile(g.caFile ?? io.env.VNP_CA_FILE, io.cwd);
      return new VnpClient({ server: creds.server, token: creds.token, ...(ca ? { ca } : {}) });
    },
    out: (text) => void io.stdout.write(text),
    err: (text) => void io.stderr.write(text),
  };
}

/**
 * Read `--ca-file` / `VNP_CA_FILE` (a PEM certificate), or say in one line why not.
 *
 * @example
 *   readCaFile('.vnp/tls-ca.pem', '/srv') // '-----BEGIN CERTIFICATE-----…'
 */
export function readCaFile(file: string | undefined, cwd: string): string | undefined {
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (e) {
    throw new VnpError('VNP_ERR_VALIDATION', `--ca-file ${file}: ${(e as Error).message}`, {
      field: 'ca-file',
    });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new VnpError('VNP_ERR_VALIDATION', `--ca-file ${file}: expected a PEM certificate`, {
      field: 'ca-file',
      expected: '-----BEGIN CERTIFICATE-----',
    });
  }
  return text;
}
