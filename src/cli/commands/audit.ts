/** `vnp audit [--limit N]`: who changed what, newest first. */
import type { Command } from 'commander';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { parseKind } from '../kinds.js';
import { formatTable, toJson, toYaml, truncate, type OutputFormat } from '../output.js';

interface AuditFlags {
  limit: number;
  kind?: string;
  name?: string;
  since?: number;
  output: OutputFormat;
}

/**
 * Register `audit`.
 *
 * @example
 *   registerAudit(program, ctx) // vnp audit --limit 20
 */
export function registerAudit(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  const audit = program
    .command('audit')
    .description('Show the audit log: committed changes by actor and time, newest first')
    .option('-n, --limit <n>', 'at most this many entries', intArg(1, 1000), 50)
    .option('--kind <kind>', 'only changes to this kind')
    .option('--name <name>', 'only changes to resources of this name')
    .option(
      '--since <revision>',
      'only changes after this revision',
      intArg(0, Number.MAX_SAFE_INTEGER),
    )
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp audit
  vnp audit --limit 5 --kind iface --name web-1
  vnp audit -o json | jq '.[0].revision'
  vnp audit verify                            # check the hash chain (exit 1 when broken)`,
    )
    .action(async (opts: AuditFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      const entries = await client.audit({
        limit: opts.limit,
        ...(opts.kind !== undefined ? { kind: parseKind(opts.kind) } : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
      });
      if (opts.output === 'json') ctx.out(toJson(entries));
      else if (opts.output === 'yaml') ctx.out(toYaml(entries));
      else
        ctx.out(
          formatTable(
            ['REVISION', 'AT', 'ACTOR', 'ACTION', 'CHANGES'],
            entries.map((e) => [
              String(e.revision),
              e.at,
              e.actor,
              truncate(e.action, 40),
              truncate(
                (e.changes ?? [])
                  .map((c) => `${c.op === 'delete' ? '-' : ''}${c.kind}/${c.name}`)
                  .join(','),
                70,
              ),
            ]),
          ),
        );
    });
  registerVerify(audit, ctx, setExitCode);
}

/** `vnp audit verify`: the audit log's hash chain, checked by the manager. */
function registerVerify(
  audit: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  audit
    .command('verify')
    .description(
      'Verify the audit log’s hash chain; name the first altered, removed or inserted entry (exit 1)',
    )
    .option(
      '--expect-head <hash>',
      'also fail unless the chain still contains this head hash (kept from an earlier run)',
    )
    .addHelpText(
      'after',
      `
Options of audit apply too (-o json | yaml | table).

Examples:
  vnp audit verify
  vnp audit verify -o json | jq -r .head > audit-head.txt   # keep the head elsewhere
  vnp audit verify --expect-head "$(cat audit-head.txt)"`,
    )
    .action(async (own: { expectHead?: string }, cmd: Command) => {
      // `-o` belongs to `audit` (commander parses a parent's options anywhere on the line).
      const opts = { ...own, output: cmd.optsWithGlobals<{ output: OutputFormat }>().output };
      const client = await ctx.client(cmd);
      const r = await client.auditVerify(opts.expectHead);
      if (!r.ok) setExitCode(1);
      if (opts.output === 'json') return ctx.out(toJson(r));
      if (opts.output === 'yaml') return ctx.out(toYaml(r));
      if (r.expectedHeadFound === false)
        ctx.out(
          `MISSING: no entry has the head ${opts.expectHead}: the log was cut or rewritten after it\n`,
        );
      if (r.broken) {
        ctx.out(`BROKEN at revision ${r.broken.revision}: ${r.broken.reason}\n`);
        ctx.out(`(${r.checked} entries before it verified)\n`);
        return;
      }
      if (r.expectedHeadFound === false) return;
      ctx.out(
        r.checked === 0
          ? 'no chained entries yet\n'
          : `ok: ${r.checked} entries, revisions ${r.first}..${r.last}, head ${r.head}\n`,
      );
      if (r.unchained > 0)
        ctx.out(`${r.unchained} older entries predate the chain (not verifiable)\n`);
    });
}
