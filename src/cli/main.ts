/**
 * The `vnp` entry point (bin/vnp.js imports this file, compiled, from dist/). The
 * only CLI module that reads `process`: it hands env, streams and cwd to the
 * program and sets the exit code — long-running commands (`server`, `agent`) keep
 * the process alive by their open handles, so nothing here calls process.exit.
 *
 * Start-up is part of the interface: `vnp --version` answers before the program
 * (commander and every command's definition) is loaded, and the program loads
 * each command's implementation only when that command runs
 * (docs/adr/0010-compiled-cli.md).
 */
import { readFileSync } from 'node:fs';
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
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(argv, {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    readStdin: () => readFileSync(0, 'utf8'),
  });
}
