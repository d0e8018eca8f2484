/**
 * What every run of the program shares, whichever commands it defines: the root
 * program (name, version, global options, output, examples), the one place errors
 * become a one-line message and an exit code, and running argv on a program with
 * the given commands. program.ts runs it with every command; a light command's own
 * bundle (command-table.ts, ADR 0073) with its command only — both print the same.
 */
import { Command, CommanderError } from 'commander';
import { VnpError } from '../model/errors.js';
import type { TestOutcome } from '../client/api-types.js';
import { createContext, type CliContext, type CliIo } from './context.js';
import { VERSION } from './version.js';

/** Adds one command module's commands to the program. */
export type Registrar = (
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
) => void;

/**
 * A fresh program with the commands of `registrars` (commander keeps parse state:
 * one program per run).
 *
 * @example
 *   const program = programWith(io, (c) => (exitCode = c), [registerGet]);
 */
export function programWith(
  io: CliIo,
  setExitCode: (code: number) => void,
  registrars: readonly Registrar[],
): Command {
  const ctx = createContext(io);
  const program = rootProgram(io);
  for (const register of registrars) register(program, ctx, setExitCode);
  applyToAll(program, (cmd) => cmd.exitOverride().configureOutput(program.configureOutput()));
  return program;
}

/**
 * The program without commands.
 *
 * @example rootProgram(io).opts() // {}
 */
export function rootProgram(io: CliIo): Command {
  return new Command('vnp')
    .description('vnp: software-defined network partitioning — tags, partitions, policies, PEPs')
    .version(VERSION, '-V, --version')
    .option('-s, --server <url>', 'manager URL (default $VNP_SERVER, else http://127.0.0.1:7400)')
    .option('--token <token>', 'API token (default $VNP_TOKEN, else $VNP_DATA_DIR/admin.token)')
    .option(
      '--ca-file <file>',
      'PEM CA certificate: the only CA trusted for an https manager (default $VNP_CA_FILE, else the system CAs)',
    )
    .option(
      '--context <name>',
      'use this context of ~/.config/vnp/config.yaml (default: its current-context; see vnp config)',
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Usage errors read like every other error: `error: VNP_ERR_VALIDATION: …`.
      outputError: (s, write) => write(usageErrorLine(s)),
    })
    .addHelpText(
      'after',
      `
Examples:
  vnp server                                  # run the manager (embedded store in ./.vnp)
  vnp apply -f examples/three-tier            # create the example, all or nothing
  vnp get iface --selector 'tier == 2'
  vnp tag web-1 env=prod tier=2
  vnp check web-1 db-1 --proto tcp --port 5432
  vnp status`,
    );
}

function applyToAll(cmd: Command, f: (c: Command) => void): void {
  f(cmd);
  for (const sub of cmd.commands) applyToAll(sub, f);
}

/**
 * The one-line message of an error: `error: VNP_ERR_…: message`.
 *
 * @example
 *   errorLine(new VnpError('VNP_ERR_NOT_FOUND', 'no Interface named x')) // 'error: VNP_ERR_NOT_FOUND: no Interface named x'
 */
export function errorLine(e: unknown): string {
  if (e instanceof VnpError) return `error: ${e.code}: ${oneLine(e.message)}${failedTests(e)}`;
  const sys = e as { syscall?: unknown; code?: unknown; address?: unknown; port?: unknown };
  // The manager cannot bind: an operator's problem (port taken, privileged port), not a bug.
  if (e instanceof Error && sys.syscall === 'listen' && typeof sys.code === 'string') {
    const what = LISTEN_ERRORS[sys.code] ?? sys.code;
    return `error: VNP_ERR_UNAVAILABLE: cannot listen on ${String(sys.address)}:${String(sys.port)}: ${what} (${sys.code}); set VNP_LISTEN`;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return `error: VNP_ERR_INTERNAL: ${oneLine(msg)}`;
}

/**
 * Commander's usage message in the CLI's error form.
 *
 * @example
 *   usageErrorLine("error: unknown option '--x'\n") // "error: VNP_ERR_VALIDATION: unknown option '--x'\n"
 */
export function usageErrorLine(s: string): string {
  return `error: VNP_ERR_VALIDATION: ${oneLine(s.replace(/^error:\s*/, ''))}\n`;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
};

/** A refused apply names its failing tests on the same line (at most three). */
function failedTests(e: VnpError): string {
  const failed = e.details?.failed;
  if (e.code !== 'VNP_ERR_TEST_FAILED' || !Array.isArray(failed) || failed.length === 0) return '';
  const shown = (failed as TestOutcome[]).slice(0, 3).map((outcome) => {
    const got = outcome.got ?? outcome.verdict ?? outcome.actual;
    return got === undefined
      ? `${outcome.name} (${outcome.reason ?? 'check failed'})`
      : `${outcome.name} (expected ${outcome.expect}, got ${got})`;
  });
  const more = failed.length > 3 ? `, and ${failed.length - 3} more` : '';
  return ` — ${shown.join(', ')}${more}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Run `argv` (user arguments only, without node and script) on a program with the
 * commands of `registrars` and return the exit code. Never throws; never calls
 * process.exit.
 *
 * @example
 *   const code = await runProgram(['get', 'iface', '-o', 'json'], io, [registerGet]);
 */
export async function runProgram(
  argv: readonly string[],
  io: CliIo,
  registrars: readonly Registrar[],
): Promise<number> {
  let exitCode = 0;
  const program = programWith(io, (c) => (exitCode = c), registrars);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander printed its own one-line message (or the help/version) already.
      return e.exitCode;
    }
    io.stderr.write(errorLine(e) + '\n');
    if (!(e instanceof VnpError) && io.env.VNP_DEBUG)
      io.stderr.write(String((e as Error).stack) + '\n');
    return 1;
  }
}
