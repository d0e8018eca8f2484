/** `vnp auth can-i VERB RESOURCE`: may my token do it? Answered by the manager's route-access table. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** A KIND alias names its resource (`iface` → `interfaces`); anything else passes as is. */
async function resourceOf(arg: string): Promise<string> {
  const [head, ...rest] = arg.split('/');
  const [{ parseKind }, { KIND_PLURAL }] = await Promise.all([
    import('../kinds.js'),
    import('../../model/types.js'),
  ]);
  try {
    return [KIND_PLURAL[parseKind(head!)], ...rest].join('/');
  } catch {
    return arg;
  }
}

/**
 * Register `auth` and `auth can-i`.
 *
 * @example
 *   registerAuth(program, ctx, setExitCode) // vnp auth can-i patch iface/tags
 */
export function registerAuth(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  const auth = program
    .command('auth')
    .description('Inspect what the current token may do')
    .addHelpText('after', `\nExamples:\n  vnp auth can-i get interfaces\n`);
  auth
    .command('can-i')
    .description('Answer yes or no: may this token do VERB on RESOURCE? (exit 0 yes, 1 no)')
    .argument(
      '<verb>',
      'get | list | watch | create | update | patch | delete | * (or an HTTP method)',
    )
    .argument(
      '<resource>',
      'interfaces (or any KIND alias), interfaces/tags, tokens, events, hosts/ack, …',
    )
    .option('--host <host>', 'for host routes (hosts/ack, hosts/state): this host')
    .option('-q, --quiet', 'print nothing; answer with the exit code')
    .option('-v, --verbose', 'also name the routes and their access levels')
    .addHelpText(
      'after',
      `
Examples:
  vnp auth can-i patch interfaces/tags
  vnp auth can-i create tokens -q || echo "ask an admin"
  VNP_TOKEN=$AGENT_TOKEN vnp auth can-i create hosts/ack --host host-b`,
    )
    .action(
      async (
        verb: string,
        resource: string,
        opts: { host?: string; quiet?: boolean; verbose?: boolean },
        cmd: Command,
      ) => {
        const client = await ctx.client(cmd);
        const answer = await client.canI(verb, await resourceOf(resource), opts.host);
        if (!answer.allowed) setExitCode(1);
        if (opts.quiet) return;
        ctx.out(answer.allowed ? 'yes\n' : 'no\n');
        if (opts.verbose) {
          ctx.out(`${answer.reason}\n`);
          for (const r of answer.routes)
            ctx.out(`  ${r.allowed ? 'yes' : 'no '}  ${r.method} ${r.path}  (${r.access})\n`);
        }
      },
    );
}
