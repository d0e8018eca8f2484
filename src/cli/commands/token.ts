/** `vnp token create|list|rotate|revoke`. */
import { Command, InvalidArgumentError } from 'commander';
import { TOKEN_ROLES, type CreatedToken, type TokenRole } from '../../client/api-types.js';
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
 * Check duration flags before any request or store is touched (the parser loads
 * lazily, like every command's implementation); throws VNP_ERR_VALIDATION naming
 * the flag.
 */
async function checkDurations(flags: Record<string, string | undefined>): Promise<void> {
  const { parseDuration } = await import('../../model/duration.js');
  for (const [flag, value] of Object.entries(flags))
    if (value !== undefined) parseDuration(value, `--${flag}`);
}

interface CreateFlags {
  role: TokenRole;
  host?: string;
  ttl?: string;
  dataDir?: string;
  databaseUrl?: string;
  output: OutputFormat;
}

/** Print a created token: the secret alone on stdout (pipe it), the rest on stderr. */
function printCreated(
  ctx: CliContext,
  created: CreatedToken,
  output: OutputFormat,
  what: string,
): void {
  if (output === 'json') ctx.out(toJson(created));
  else if (output === 'yaml') ctx.out(toYaml(created));
  else {
    ctx.out(created.token + '\n');
    const expires = created.expiresAt ? `, expires ${created.expiresAt}` : '';
    ctx.err(
      `token ${created.id} (role ${created.role ?? '?'}${created.host ? `, host ${created.host}` : ''}${expires}) ${what}; the secret above is not shown again\n`,
    );
  }
}

/** `--data-dir`/`--database-url`: write straight to the store (no manager needed). */
async function createOffline(ctx: CliContext, opts: CreateFlags): Promise<CreatedToken> {
  const { createTokenOffline } = await import('../../server/offline-token.js');
  const { parseDuration } = await import('../../model/duration.js');
  return createTokenOffline(
    {
      dataDir: opts.dataDir ?? ctx.io.env.VNP_DATA_DIR ?? './.vnp',
      ...(opts.databaseUrl !== undefined ? { databaseUrl: opts.databaseUrl } : {}),
    },
    {
      role: opts.role,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.ttl !== undefined ? { ttlMs: parseDuration(opts.ttl, 'ttl', { min: 1000 }) } : {}),
    },
  );
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
  vnp token create --role viewer --ttl 30d
  vnp token create --role agent --host host-a > /etc/vnp/agent.token
  vnp token list
  vnp token rotate 3f2a… --grace 1h
  vnp token revoke 3f2a…
  vnp token create --role admin --data-dir /var/lib/vnp   # recovery, on the manager's host`,
    );

  token
    .command('create')
    .description('Create a token; the secret is printed once, on stdout')
    .requiredOption('-r, --role <role>', TOKEN_ROLES.join(' | '), roleArg)
    .option('--host <host>', 'agent tokens: the PEP host the token is bound to')
    .option('--ttl <duration>', 'lifetime (30d, 12h, 90m); default: never expires')
    .option(
      '--data-dir <dir>',
      "offline: write to the manager's embedded store in DIR directly (manager stopped)",
    )
    .option('--database-url <url>', 'offline: write to this PostgreSQL database directly')
    .option(
      '-o, --output <format>',
      'json | yaml | table (table: only the secret)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      `
Offline recovery (no admin token left, or no manager running): on the manager's
host, --data-dir (embedded store; stop the manager first) or --database-url
(PostgreSQL; managers may run) writes the token straight to the store, audited
as offline:<user>. Whoever can read the data directory or reach the database
already controls vnp; no token is needed for that.

Examples:
  vnp token create --role operator --ttl 90d
  vnp token create --role agent --host host-a -o json
  vnp token create --role admin --data-dir /var/lib/vnp
  vnp token create --role admin --database-url postgres://vnp@db/vnp`,
    )
    .action(async (opts: CreateFlags, cmd: Command) => {
      if (opts.role === 'agent' && opts.host === undefined) {
        cmd.error('error: --host is required for agent tokens', { exitCode: 1 });
      }
      await checkDurations({ ttl: opts.ttl });
      const offline = opts.dataDir !== undefined || opts.databaseUrl !== undefined;
      const created = offline
        ? await createOffline(ctx, opts)
        : await (await ctx.client(cmd)).createToken(opts.role, opts.host, opts.ttl);
      printCreated(ctx, created, opts.output, offline ? 'created offline' : 'created');
    });

  token
    .command('list')
    .description('List tokens (never their secrets)')
    .addHelpText(
      'after',
      '\nLAST-USED is recorded in batches (at most about a minute stale).\n\nExamples:\n  vnp token list\n  vnp token list -o json | jq -r \'.[] | select(.role == "agent") | .id\'',
    )
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const tokens = await (await ctx.client(cmd)).listTokens();
      if (opts.output === 'json') ctx.out(toJson(tokens));
      else if (opts.output === 'yaml') ctx.out(toYaml(tokens));
      else
        ctx.out(
          formatTable(
            ['ID', 'ROLE', 'HOST', 'CREATED', 'EXPIRES', 'LAST-USED', 'REVOKED'],
            tokens.map((info) => [
              info.id,
              info.role,
              cell(info.host),
              cell(info.createdAt),
              cell(info.expiresAt),
              cell(info.lastUsedAt),
              cell(info.revokedAt),
            ]),
          ),
        );
    });

  token
    .command('rotate')
    .description('Replace a token: a new secret (new id, same role and host); the old one expires')
    .argument('<id>', 'token id (from token list)')
    .option('--grace <duration>', 'how long the old secret keeps working (0s: not at all)', '1h')
    .option('--ttl <duration>', 'lifetime of the new token; default: never expires')
    .option(
      '-o, --output <format>',
      'json | yaml | table (table: only the new secret)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  vnp token rotate 05c465780300cca6 > /etc/vnp/agent.token\n  vnp token rotate 05c465780300cca6 --grace 0s -o json',
    )
    .action(
      async (
        id: string,
        opts: { grace: string; ttl?: string; output: OutputFormat },
        cmd: Command,
      ) => {
        await checkDurations({ grace: opts.grace, ttl: opts.ttl });
        const rotated = await (
          await ctx.client(cmd)
        ).rotateToken(id, {
          grace: opts.grace,
          ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
        });
        printCreated(
          ctx,
          rotated,
          opts.output,
          `replaces ${rotated.replaces} (which expires ${rotated.oldExpiresAt})`,
        );
      },
    );

  token
    .command('revoke')
    .description('Revoke a token by id (never the last live admin token)')
    .argument('<id>', 'token id (from token list)')
    .addHelpText('after', '\nExamples:\n  vnp token revoke 05c465780300cca6')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await (await ctx.client(cmd)).revokeToken(id);
      ctx.out(`token ${id} revoked\n`);
    });
}
