/**
 * The `vnp` entry point (bin/vnp.js imports this file, compiled, from dist/). The
 * only CLI module that reads `process`: it hands env, streams and cwd to the
 * program and sets the exit code — long-running commands (`server`, `agent`) keep
 * the process alive by their open handles, so nothing here calls process.exit.
 *
 * Start-up is part of the interface: `vnp --version` answers before the program
 * (commander and every command's definition) is loaded, and the program loads
 * each command's implementation only when that command runs
 * (docs/adr/0010-compiled-cli.md). A light command (`get`, `describe`, `tag`, …)
 * runs from its own one-file bundle with only its definition, when the build made
 * one (docs/adr/0073-one-bundle-per-command.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { lightCommandOf } from './command-table.js';
import type { CliIo } from './context.js';
import { VERSION } from './version.js';

// `vnp get iface | head`: a closed pipe ends output quietly, as in other tools.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(VERSION + '\n');
} else {
  const run = await runnerFor(argv);
  process.exitCode = await run(argv, {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    readStdin: () => readFileSync(0, 'utf8'),
  });
}

type Run = (argv: readonly string[], io: CliIo) => Promise<number>;

/**
 * The light command's bundle (scripts/build-bundle.mjs writes dist/bundle/command/,
 * next to dist/cli/, which is this module's original location also inside the
 * bundle), else the whole program (sources run by tsx, a build without them).
 */
async function runnerFor(args: readonly string[]): Promise<Run> {
  const light = lightCommandOf(args);
  const own = light && new URL(`../bundle/command/${light.module}.js`, import.meta.url);
  if (own && existsSync(own)) return ((await import(own.href)) as { run: Run }).run;
  return (await import('./program.js')).runCli;
}
