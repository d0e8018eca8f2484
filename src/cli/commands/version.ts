/** `vnp version [--client]`: the CLI's version and the manager's (`GET /v1/version`). */
import type { Command } from 'commander';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import type { OutputFormat } from '../output.js';

/**
 * Register `version`. An unreachable manager prints the client version and fails
 * (exit 1), as `kubectl version` does.
 *
 * @example
 *   registerVersion(program, ctx) // vnp version -o json
 */
export function registerVersion(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('Show the client version and the manager’s')
    .option('--client', 'the client version only (no request)')
    .option('-o, --output <format>', 'table | json | yaml', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `\nExamples:\n  vnp version\n  vnp version --client\n  vnp version -o json\n`,
    )
    .action(async (opts: { client?: boolean; output: OutputFormat }, cmd: Command) => {
      const [{ toJson, toYaml }, { VERSION }] = await Promise.all([
        import('../output.js'),
        import('../version.js'),
      ]);
      const client = { version: VERSION, node: process.version };
      const server = opts.client ? undefined : await (await ctx.client(cmd)).version();
      const report = { client, ...(server ? { server } : {}) };
      if (opts.output === 'json') return ctx.out(toJson(report));
      if (opts.output === 'yaml') return ctx.out(toYaml(report));
      ctx.out(`Client Version: ${VERSION} (node ${client.node})\n`);
      if (server)
        ctx.out(
          `Server Version: ${server.version} (API ${server.api}, node ${server.node}, store ${server.backend})\n`,
        );
    });
}
