/** `vnp token create|list|revoke`. */
import { Command, InvalidArgumentError } from 'commander';
import { TOKEN_ROLES, type TokenRole } from '../../client/api-types.js';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { cell, formatTable, toJson, toYaml, type OutputFormat } from '../output.js';

function roleArg(value: string): TokenRole {
  if (!(TOKEN_ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${TOKEN_ROLES.join(', ')}`);
  }
  return value as TokenRole;
}

/**
 * Register `token` and its subcommands.
 *
 * @example
 *   registerToken(program, ctx) // vnp token create --role agent --host host-a
 */
export function registerToken(program: Command, ctx: CliContext): void {
  const token = program
    .command('token')
    .description('Manage API tokens')
    .addHelpText(
      'after',
      `
Roles: admin (everything), operator (tags, attach, events), viewer (read only),
agent (one PEP, bound to --host).

Examples:
  vnp token create --role viewer
  vnp token create --role agent --host host-a > /etc/vnp/agent.token
  vnp token list
  vnp token revoke 3f2a…`,
    );

  token
    .command('create')
    .description('Create a token; the secret is printed once, on stdout')
    .requiredOption('-r, --role <role>', TOKEN_ROLES.join(' | '), roleArg)
    .option('--host <host>', 'agent tokens: the PEP host the token is bound to')
    .option(
      '-o, --output <format>',
      'json | yaml | table (table: only the secret)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp token create --role operator
  vnp token create --role agent --host host-a -o json`,
    )
    .action(
      async (opts: { role: TokenRole; host?: string; output: OutputFormat }, cmd: Command) => {
        if (opts.role === 'agent' && opts.host === undefined) {
          cmd.error('error: --host is required for agent tokens', { exitCode: 1 });
        }
        const client = await ctx.client(cmd);
        const created = await client.createToken(opts.role, opts.host);
        if (opts.output === 'json') ctx.out(toJson(created));
        else if (opts.output === 'yaml') ctx.out(toYaml(created));
        else {
          // The secret alone on stdout (pipe it to a file); the id on stderr for people.
          ctx.out(created.token + '\n');
          ctx.err(
            `token ${created.id} (role ${opts.role}${opts.host ? `, host ${opts.host}` : ''}) created; the secret above is not shown again\n`,
          );
        }
      },
    );

  token
    .command('list')
    .description('List tokens (never their secrets)')
    .addHelpText(
      'after',
      '\nExamples:\n  vnp token list\n  vnp token list -o json | jq -r \'.[] | select(.role == "agent") | .id\'',
    )
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const client = await ctx.client(cmd);
      const tokens = await client.listTokens();
      if (opts.output === 'json') ctx.out(toJson(tokens));
      else if (opts.output === 'yaml') ctx.out(toYaml(tokens));
      else
        ctx.out(
          formatTable(
            ['ID', 'ROLE', 'HOST', 'CREATED', 'CREATED-BY', 'REVOKED'],
            tokens.map((t) => [
              t.id,
              t.role,
              cell(t.host),
              cell(t.createdAt),
              cell(t.createdBy),
              cell(t.revokedAt),
            ]),
          ),
        );
    });

  token
    .command('revoke')
    .description('Revoke a token by id')
    .argument('<id>', 'token id (from token list)')
    .addHelpText('after', '\nExamples:\n  vnp token revoke 05c465780300cca6')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = await ctx.client(cmd);
      await client.revokeToken(id);
      ctx.out(`token ${id} revoked\n`);
    });
}
