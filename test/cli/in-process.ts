/**
 * A real manager (buildServer on PGlite, listening on a free port) and the CLI run
 * in-process against it (runCli with captured streams): the whole path — flags,
 * client, HTTP, routes, engine, store — without a process start per command.
 */
import type { Role } from '../../src/server/auth.js';
import { runCli } from '../../src/cli/program.js';
import {
  startTestServer,
  type StartOptions,
  type TestServer,
} from '../server/support/test-server.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InProcessCli {
  server: TestServer;
  url: string;
  /** Run `vnp ARGS` as `as` (default admin); `env` adds to VNP_SERVER and VNP_TOKEN. */
  vnp(
    args: string[],
    opts?: { as?: Role; env?: Record<string, string | undefined>; input?: string; cwd?: string },
  ): Promise<CliRun>;
  close(): Promise<void>;
}

/**
 * Start a manager and return a CLI runner bound to it.
 *
 * @example
 *   const cli = await startCli();
 *   const r = await cli.vnp(['get', 'iface', '-o', 'json']);
 */
export async function startCli(opts: StartOptions = {}): Promise<InProcessCli> {
  const server = await startTestServer(opts);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    server,
    url,
    async vnp(args, o = {}) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, {
        env: { VNP_SERVER: url, VNP_TOKEN: server.tokens[o.as ?? 'admin'], ...o.env },
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        cwd: o.cwd ?? '/nonexistent',
        readStdin: () => o.input ?? '',
      });
      return { code, stdout, stderr };
    },
    close: () => server.close(),
  };
}
