/**
 * `--wait[=strict]` and `--timeout` on every write: the manager holds the answer
 * until every connected PEP the change concerns acknowledged it (`?wait=`), and
 * names the concerned hosts with no PEP connected, which nothing enforces yet.
 */
import { Option, type Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import type { CliContext } from '../context.js';

export interface WaitFlags {
  /** `--wait` → true, `--wait=strict` → 'strict'. */
  wait?: boolean | string;
  timeout: string;
}

/** What the manager adds to a waited write's answer. */
export interface Waited {
  ms: number;
  hosts: number;
  unconnected?: string[];
}

/**
 * Add `--wait [strict]` and `--timeout` to a write command.
 *
 * @example
 *   addWaitOptions(program.command('attach')) // vnp attach web-1 vm-1 --wait
 */
export function addWaitOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--wait [strict]',
        'return once every connected PEP the change concerns enforces it; =strict: fail when a concerned host has no PEP connected',
      ).choices(['strict']),
    )
    .option('--timeout <duration>', 'how long --wait waits (5s, 500ms, 1m)', '5s');
}

/**
 * The `?wait=` query of a write (empty without `--wait`).
 *
 * @example
 *   waitQuery({ wait: true, timeout: '5s' }) // { wait: '5s' }
 */
export function waitQuery(flags: WaitFlags): { wait?: string } {
  return flags.wait === undefined || flags.wait === false ? {} : { wait: flags.timeout };
}

/**
 * Report a waited write: the text to append to its summary (`; enforced by 2 PEPs
 * after 12 ms`); a warning on stderr naming concerned hosts without a PEP; and with
 * `--wait=strict` a VNP_ERR_UNAVAILABLE error for them (the write itself is
 * committed: the message says so).
 *
 * @example
 *   ctx.out(`web-1 tagged${waitSummary(ctx, flags, answer.waited, 7)}\n`);
 */
export function waitSummary(
  ctx: CliContext,
  flags: WaitFlags,
  waited: Waited | undefined,
  revision: number | undefined,
): string {
  if (waited === undefined) return '';
  const missing = waited.unconnected ?? [];
  if (missing.length > 0) {
    const hosts = `${missing.slice(0, 20).join(', ')}${missing.length > 20 ? `, and ${missing.length - 20} more` : ''}`;
    const rev = revision === undefined ? 'the change' : `revision ${revision}`;
    if (flags.wait === 'strict') {
      throw new VnpError(
        'VNP_ERR_UNAVAILABLE',
        `${rev} is committed but not enforced on ${missing.length} host(s) with no connected PEP: ${hosts}`,
        { unconnected: missing, revision },
      );
    }
    ctx.err(
      `warning: no PEP connected for ${missing.length} host(s) the change concerns, nothing enforces it there yet: ${hosts}\n`,
    );
  }
  return `; enforced by ${waited.hosts} PEP${waited.hosts === 1 ? '' : 's'} after ${waited.ms} ms`;
}
