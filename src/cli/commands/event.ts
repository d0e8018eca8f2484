/** `vnp event TYPE --target IFACE`: post an event; reactions fire on it. */
import type { Command } from 'commander';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';

/**
 * Register `event`.
 *
 * @example
 *   registerEvent(program, ctx) // vnp event ids-alert --target web-3
 */
export function registerEvent(program: Command, ctx: CliContext): void {
  program
    .command('event')
    .description('Post an event about an interface record; matching reactions change its tags')
    .argument('<type>', 'event type, e.g. ids-alert (reactions select it with `on`)')
    .requiredOption(
      '-t, --target <iface>',
      'the interface record (or an address it holds) the event is about',
    )
    .option('--severity <n>', 'severity 0..255, stored with the event', intArg(0, 255))
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp event ids-alert --target web-3
  vnp event ids.alert --target 10.0.0.7 --severity 1
  vnp event scan-clean --target web-3 -o json`,
    )
    .action(
      async (
        type: string,
        opts: { target: string; severity?: number; output: OutputFormat },
        cmd: Command,
      ) => {
        const client = await ctx.client(cmd);
        const result = await client.event(
          type,
          opts.target,
          opts.severity !== undefined ? { severity: opts.severity } : {},
        );
        if (opts.output === 'json') ctx.out(toJson(result ?? {}));
        else if (opts.output === 'yaml') ctx.out(toYaml(result ?? {}));
        else ctx.out(eventSummary(type, opts.target, result));
      },
    );
}

/**
 * A one-line summary of the manager's answer
 * `{event: {record?, reactions[]}, revision?, expiries: [{record, reaction, expiresAt}]}`.
 *
 * @example
 *   eventSummary('ids-alert', 'web-2', { event: { reactions: ['q'] }, revision: 9, expiries: [] })
 *   // 'event ids-alert on web-2: reactions fired: q (revision 9)\n'
 */
export function eventSummary(type: string, target: string, result: unknown): string {
  const r = asRecord(result);
  const event = asRecord(r.event);
  const fired = Array.isArray(event.reactions) ? event.reactions.map(String) : undefined;
  const record =
    typeof event.record === 'string' && event.record !== target ? ` (record ${event.record})` : '';
  const what =
    fired === undefined
      ? 'accepted'
      : fired.length === 0
        ? 'no reaction matched'
        : `reactions fired: ${fired.join(', ')}`;
  const rev = typeof r.revision === 'number' ? ` (revision ${r.revision})` : '';
  const until = (Array.isArray(r.expiries) ? r.expiries : [])
    .map(asRecord)
    .filter((x) => typeof x.expiresAt === 'string')
    .map((x) => `; ${String(x.reaction)} undoes itself at ${String(x.expiresAt)}`)
    .join('');
  return `event ${type} on ${target}${record}: ${what}${rev}${until}\n`;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}
