/**
 * `vnp delete KIND NAME…`, `vnp delete KIND -l SELECTOR`, `vnp delete -f FILE|DIR`,
 * with `--dry-run` previewing which flows would flip (POST /v1/impact) and `--wait`.
 */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import { collect, intArg } from '../arguments.js';
import type { Kind } from '../../model/types.js';
import type { CliContext } from '../context.js';
import { kindHelp, parseKind } from '../kinds.js';
import type { ImpactAnswer } from '../impact-format.js';
import {
  addWaitOptions,
  waitQuery,
  waitSummary,
  type WaitFlags,
  type Waited,
} from './wait-options.js';

interface DeleteFlags extends WaitFlags {
  filename?: string[];
  selector?: string;
  dryRun?: boolean;
  limit: number;
}

/**
 * Register `delete`.
 *
 * @example registerDelete(program, ctx) // vnp delete iface web-3 web-4
 */
export function registerDelete(program: Command, ctx: CliContext): void {
  const command = program
    .command('delete')
    .usage('[options] KIND NAME… | KIND -l SELECTOR | -f FILE|DIR')
    .description('Delete resources by kind and name, by selector, or those named in files')
    .argument('[kind]', `resource kind: ${kindHelp()}`)
    .argument('[names...]', 'resource names')
    .option('-f, --filename <path>', 'delete the resources these files name (repeatable)', collect)
    .option('-l, --selector <selector>', 'interfaces whose tags match')
    .option('--dry-run', 'show what would be deleted and the flows that would flip; change nothing')
    .option(
      '--limit <n>',
      'impact rows shown with --dry-run (all are counted)',
      intArg(0, 5000),
      20,
    );
  addWaitOptions(command)
    .addHelpText(
      'after',
      `
Resources are deleted one after another (one revision each), in the order given.

Examples:
  vnp delete policy allow-web
  vnp delete iface web-3 web-4
  vnp delete iface -l 'env == "staging"' --dry-run
  vnp delete -f examples/three-tier --dry-run`,
    )
    .action(
      async (kindArg: string | undefined, names: string[], opts: DeleteFlags, cmd: Command) => {
        const client = await ctx.client(cmd);
        const targets = await deleteTargets(ctx, client, kindArg, names, opts);
        if (targets.length === 0) return ctx.err('nothing to delete\n');
        if (opts.dryRun) {
          const { formatImpact } = await import('../impact-format.js');
          const impact = (await client.impact({ documents: [], deletes: targets })) as unknown as {
            impact?: ImpactAnswer;
          } & ImpactAnswer;
          for (const ref of targets) ctx.out(`deleted    ${ref.kind}/${ref.name}\n`);
          ctx.out(formatImpact(impact.impact ?? impact, opts.limit));
          return ctx.out(`dry run: ${targets.length} would be deleted; nothing was changed\n`);
        }
        for (const ref of targets) {
          const r = (await client.delete(ref.kind, ref.name, waitQuery(opts))) as {
            revision?: number;
            waited?: Waited;
          };
          ctx.out(
            `${ref.kind}/${ref.name} deleted${r.revision !== undefined ? ` (revision ${r.revision})` : ''}${waitSummary(ctx, opts, r.waited, r.revision)}\n`,
          );
        }
      },
    );
}

type Client = Awaited<ReturnType<CliContext['client']>>;

async function deleteTargets(
  ctx: CliContext,
  client: Client,
  kindArg: string | undefined,
  names: string[],
  opts: DeleteFlags,
): Promise<{ kind: Kind; name: string }[]> {
  if (opts.filename !== undefined) {
    if (kindArg !== undefined) throw usage('-f names its resources: give no KIND or NAME');
    const { loadDocuments } = await import('../load-documents.js');
    const docs = loadDocuments(opts.filename, {
      cwd: ctx.io.cwd,
      ...(ctx.io.readStdin ? { readStdin: ctx.io.readStdin } : {}),
    });
    // Dependents first: a subnet goes after the records in it (reverse file order).
    return docs
      .filter((d) => d.doc.kind !== 'Test' && d.doc.kind !== 'Settings')
      .map((d) => ({ kind: d.doc.kind as Kind, name: String(d.doc.name) }))
      .reverse();
  }
  if (kindArg === undefined) throw usage('expected KIND NAME…, KIND -l SELECTOR or -f FILE');
  const kind = parseKind(kindArg);
  if (kind === 'Settings')
    throw usage('Settings cannot be deleted: apply a Settings document to change the defaults');
  if (opts.selector !== undefined) {
    if (kind !== 'Interface' || names.length > 0)
      throw usage('-l: only interfaces carry tags (vnp delete iface -l SELECTOR)');
    const items = await client.list('Interface', { selector: opts.selector });
    return items.map((i) => ({ kind, name: String((i as { name: string }).name) }));
  }
  if (names.length === 0) throw usage(`expected the name(s) of the ${kind} resources to delete`);
  return names.map((name) => ({ kind, name }));
}

function usage(message: string): VnpError {
  return new VnpError('VNP_ERR_VALIDATION', message, { field: 'args' });
}
