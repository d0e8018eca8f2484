/** `vnp event TYPE --target IFACE`: post an event; reactions fire on it. */
import type { Command } from 'commander';
import { outputArg } from '../arguments.js';
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
    .requiredOption('-t, --target <iface>', 'the interface record the event is about')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp event ids-alert --target web-3
  vnp event scan-clean --target web-3 -o json`,
    )
    .action(async (type: string, opts: { target: string; output: OutputFormat }, cmd: Command) => {
      const result = await ctx.client(cmd).event(type, opts.target);
      if (opts.output === 'json') ctx.out(toJson(result ?? {}));
      else if (opts.output === 'yaml') ctx.out(toYaml(result ?? {}));
      else ctx.out(eventSummary(type, opts.target, result));
    });
}

/** A one-line summary of the server's answer (whatever fields it has). */
function eventSummary(type: string, target: string, result: unknown): string {
  const r = (typeof result === 'object' && result !== null ? result : {}) as Record<
    string,
    unknown
  >;
  const fired = Array.isArray(r.reactions)
    ? r.reactions
    : Array.isArray(r.fired)
      ? r.fired
      : undefined;
  const names = fired?.map((x) =>
    typeof x === 'string' ? x : String((x as { name?: unknown }).name ?? '?'),
  );
  const rev = typeof r.revision === 'number' ? ` (revision ${r.revision})` : '';
  const what =
    names === undefined
      ? 'accepted'
      : names.length === 0
        ? 'no reaction matched'
        : `reactions fired: ${names.join(', ')}`;
  return `event ${type} on ${target}: ${what}${rev}\n`;
}
