/**
 * `vnp server` and `vnp agent`: the long-running processes. Both are imported
 * lazily so the rest of the CLI starts fast and works in a build without them.
 */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import type { CliContext, GlobalOptions } from '../context.js';

/** Options handed to `runAgent` (src/agent/run-agent.ts). */
export interface AgentCliOptions {
  /** Managers to connect to, in order of preference. */
  servers: string[];
  host: string;
  tokenFile?: string;
  /** A token given with --token or VNP_TOKEN (the token file wins when both are given). */
  token?: string;
  underlayIp?: string;
}

/**
 * Import a module of this build by path, or explain in one line that it is missing.
 * The specifier is a variable so the type checker does not require the module.
 */
async function importPart<T>(specifier: string, what: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const base = specifier.replace(/^.*\//, '').replace(/\.js$/, '');
    // Only the module itself missing means "not in this build"; a missing import
    // inside it is a real error and propagates.
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`${base}.`)) {
      throw new VnpError(
        'VNP_ERR_UNAVAILABLE',
        `${what} is not part of this build (${specifier} is missing)`,
      );
    }
    throw e;
  }
}

/**
 * Split `--server a,b` into URLs.
 *
 * @example
 *   splitServers('http://m1:7400, http://m2:7400') // ['http://m1:7400', 'http://m2:7400']
 */
export function splitServers(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Register `server` and `agent`.
 *
 * @example
 *   registerDaemons(program, ctx) // vnp server
 */
export function registerDaemons(program: Command, ctx: CliContext): void {
  program
    .command('server')
    .description('Run the manager (REST API, store, distribution to PEPs)')
    .addHelpText(
      'after',
      `
Configured by environment:
  VNP_LISTEN        address:port to listen on (default 127.0.0.1:7400)
  VNP_DATA_DIR      data directory: embedded store, admin.token (default ./.vnp)
  VNP_DATABASE_URL  postgres://… to use PostgreSQL instead of the embedded store

On first start the manager writes an admin token to $VNP_DATA_DIR/admin.token
(mode 0600); the CLI on the same machine picks it up from there.

Examples:
  vnp server
  VNP_LISTEN=0.0.0.0:7400 VNP_DATA_DIR=/var/lib/vnp vnp server`,
    )
    .action(async () => {
      // Static specifiers: the manager is part of every build; lazy so that the
      // other verbs do not load Fastify, the store and the engine.
      const { parseSettings } = await import('../../config/settings.js');
      const { runServer } = await import('../../server/run-server.js');
      await runServer(parseSettings(ctx.io.env), { print: (line) => ctx.out(line + '\n') });
    });

  program
    .command('agent')
    .description(
      "Run a PEP: enforce the manager's partitioning on this Linux host (nftables, VXLAN-GBP)",
    )
    .option('--server <url[,url…]>', 'managers to connect to, in order (default $VNP_SERVER)')
    .requiredOption('--host <name>', "this PEP's host name (instances name it in `host`)")
    .option(
      '--token-file <file>',
      "file holding this host's agent token (vnp token create --role agent --host NAME)",
    )
    .option('--underlay-ip <ip>', "this host's address on the underlay network (VXLAN endpoint)")
    .addHelpText(
      'after',
      `
Examples:
  vnp token create --role agent --host host-a > /etc/vnp/agent.token
  vnp agent --server http://10.0.0.5:7400,http://10.0.0.6:7400 --host host-a \\
            --token-file /etc/vnp/agent.token --underlay-ip 10.0.0.21`,
    )
    .action(
      async (opts: { host: string; tokenFile?: string; underlayIp?: string }, cmd: Command) => {
        // The global --server takes the value wherever it is written (see main's note).
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const serverList = g.server ?? ctx.io.env.VNP_SERVER;
        if (serverList === undefined || splitServers(serverList).length === 0) {
          throw new VnpError('VNP_ERR_VALIDATION', '--server is required (or set VNP_SERVER)', {
            field: 'server',
          });
        }
        const token = g.token ?? ctx.io.env.VNP_TOKEN;
        const options: AgentCliOptions = {
          servers: splitServers(serverList),
          host: opts.host,
          ...(opts.tokenFile !== undefined ? { tokenFile: opts.tokenFile } : {}),
          ...(token !== undefined && token !== '' ? { token } : {}),
          ...(opts.underlayIp !== undefined ? { underlayIp: opts.underlayIp } : {}),
        };
        const { runAgent } = await importPart<{
          runAgent: (o: AgentCliOptions) => Promise<unknown>;
        }>('../../agent/run-agent.js', 'the agent');
        await runAgent(options);
      },
    );
}
