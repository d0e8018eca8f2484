/** `vnp check SRC DST [--proto P] [--port N] [-o json]`: judge and explain a flow. */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import type { Protocol } from '../../model/types.js';
import type { CheckRequest } from '../../client/api-types.js';
import { intArg, outputArg, protocolArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';

/** Exit code of `check --exit-code` for a denied flow. */
export const DENIED_EXIT_CODE = 3;

interface CheckFlags {
  proto?: Protocol;
  port?: number;
  output: OutputFormat;
  exitCode?: boolean;
}

/**
 * Register `check`.
 *
 * @example
 *   registerCheck(program, ctx) // vnp check web-1 db-1 --proto tcp --port 5432
 */
export function registerCheck(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command('check')
    .description(
      "Judge a flow from SRC to DST and explain the verdict (each side's deciding rule or default)",
    )
    .argument('<src>', 'source: interface record name or IP address')
    .argument('<dst>', 'destination: interface record name or IP address')
    .option('-p, --proto <protocol>', 'tcp | udp | sctp | icmp (default tcp)', protocolArg)
    .option('--port <port>', 'destination port', intArg(1, 65535))
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .option('--exit-code', `exit ${DENIED_EXIT_CODE} when the flow is denied (for scripts)`)
    .addHelpText(
      'after',
      `
Examples:
  vnp check web-1 app-1 --proto tcp --port 8080
  vnp check app-1 db-1 --port 5432 -o json
  vnp check 203.0.113.9 web-1 --port 443
  vnp check web-1 db-1 --port 5432 --exit-code || echo denied`,
    )
    .action(async (src: string, dst: string, opts: CheckFlags, cmd: Command) => {
      const protocol = opts.proto ?? 'tcp';
      // A flow has one destination port (icmp has none): say so before asking.
      if (protocol !== 'icmp' && opts.port === undefined) {
        throw new VnpError(
          'VNP_ERR_VALIDATION',
          `--port is required for ${protocol} (or use --proto icmp)`,
          {
            field: 'port',
            expected: 'an integer 1..65535',
          },
        );
      }
      const req: CheckRequest = { src, dst };
      if (protocol !== undefined) req.protocol = protocol;
      // An icmp flow with a port is refused by the manager (refuseIcmpPort), not dropped.
      if (opts.port !== undefined) req.port = opts.port;
      const client = await ctx.client(cmd);
      const result = await client.check(req);
      if (opts.output === 'json') ctx.out(toJson(result));
      else if (opts.output === 'yaml') ctx.out(toYaml(result));
      else ctx.out((await import('../check-format.js')).formatCheck(result, req));
      if (opts.exitCode && result.verdict !== 'allow') setExitCode(DENIED_EXIT_CODE);
    });
}
