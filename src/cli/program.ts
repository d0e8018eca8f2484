/**
 * The `vnp` program: every verb of design.md §5 on one commander tree (run-program.ts
 * holds the root program and the error handling every run shares).
 *
 * Defining the tree must stay cheap (`vnp --help` and the commands without a bundle
 * of their own pay for it): command modules import only what their definitions
 * need and load their implementation inside the action (`await import(...)`);
 * eslint.config.js and test/cli/lazy-imports.test.ts hold the line.
 */
import type { Command } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerAudit } from './commands/audit.js';
import { registerAuth } from './commands/auth.js';
import { registerCert } from './commands/cert.js';
import { registerCheck } from './commands/check.js';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerDaemons } from './commands/daemons.js';
import { registerDelete } from './commands/delete.js';
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
import type { CliIo } from './context.js';
import { programWith, runProgram, type Registrar } from './run-program.js';
import { VERSION } from './version.js';

export { VERSION };
export { errorLine, usageErrorLine } from './run-program.js';

/** Every command module, in the order `vnp --help` lists their commands. */
export const ALL_COMMANDS: readonly Registrar[] = [
  registerDaemons,
  registerApply,
  registerImport,
  registerGet,
  registerDelete,
  registerDescribe,
  registerIdentities,
  registerInterfaceOps,
  registerCheck,
  registerEvent,
  registerStatus,
  registerToken,
  registerCert,
  registerAudit,
  registerWatch,
  registerFlows,
  registerHistory,
  registerRollback,
  registerWhoCanReach,
  registerAuth,
  registerConfig,
  registerVersion,
  registerCompletion,
];

/**
 * Build a fresh program with every command (commander keeps parse state: one
 * program per run).
 *
 * @example
 *   const program = buildProgram(io, (c) => (exitCode = c));
 */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  return programWith(io, setExitCode, ALL_COMMANDS);
}

/**
 * Run the CLI on `argv` (user arguments only, without node and script) and return
 * the exit code. Never throws; never calls process.exit.
 *
 * @example
 *   const code = await runCli(['get', 'iface', '-o', 'json'], io);
 */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runProgram(argv, io, ALL_COMMANDS);
}
