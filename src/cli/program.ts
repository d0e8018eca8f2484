/**
 * The `vnp` program: every verb of design.md §5 on one commander tree, and the
 * one place errors become a one-line message and an exit code.
 *
 * Defining the tree must stay cheap (`vnp --help` and every command pay for it):
 * command modules import only what their definitions need and load their
 * implementation inside the action (`await import(...)`); eslint.config.js and
 * test/cli/lazy-imports.test.ts hold the line.
 */
import { Command, CommanderError } from 'commander';
import { VnpError } from '../model/errors.js';
import type { TestOutcome } from '../client/api-types.js';
import { registerApply } from './commands/apply.js';
import { registerAudit } from './commands/audit.js';
import { registerAuth } from './commands/auth.js';
import { registerCert } from './commands/cert.js';
import { registerCheck } from './commands/check.js';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerDaemons } from './commands/daemons.js';
import { registerDescribe } from './commands/describe.js';
import { registerEvent } from './commands/event.js';
import { registerFlows } from './commands/flows.js';
import { registerGet } from './commands/get.js';
import { registerHistory } from './commands/history.js';
import { registerIdentities } from './commands/identities.js';
import { registerImport } from './commands/import.js';
import { registerInterfaceOps } from './commands/interface-ops.js';
import { registerRollback } from './commands/rollback.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerVersion } from './commands/version.js';
import { registerWatch } from './commands/watch.js';
import { registerWhoCanReach } from './commands/who-can-reach.js';
import { createContext, type CliIo } from './context.js';
import { VERSION } from './version.js';

export { VERSION };

/**
 * Build a fresh program (commander keeps parse state: one program per run).
 *
 * @example
 *   const program = buildProgram(io, (c) => (exitCode = c));
 */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const ctx = createContext(io);
  const program = new Command('vnp')
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
  registerDaemons(program, ctx);
  registerApply(program, ctx);
  registerImport(program, ctx);
  registerGet(program, ctx);
  registerDescribe(program, ctx);
  registerIdentities(program, ctx);
  registerInterfaceOps(program, ctx);
  registerCheck(program, ctx, setExitCode);
  registerEvent(program, ctx);
  registerStatus(program, ctx, setExitCode);
  registerToken(program, ctx);
  registerCert(program, ctx);
  registerAudit(program, ctx, setExitCode);
  registerWatch(program, ctx);
  registerFlows(program, ctx);
  registerHistory(program, ctx);
  registerRollback(program, ctx);
  registerWhoCanReach(program, ctx);
  registerAuth(program, ctx, setExitCode);
  registerConfig(program, ctx);
  registerVersion(program, ctx);
  registerCompletion(program, ctx);
  applyToAll(program, (cmd) => cmd.exitOverride().configureOutput(program.configureOutput()));
  return program;
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
 * Run the CLI on `argv` (user arguments only, without node and script) and return
 * the exit code. Never throws; never calls process.exit.
 *
 * @example
 *   const code = await runCli(['get', 'iface', '-o', 'json'], io);
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (c) => (exitCode = c));
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
