/**
 * The `vnp` entry point (bin/vnp.js imports this file). The only CLI module that
 * reads `process`: it hands env, streams and cwd to the program and sets the exit
 * code — long-running commands (`server`, `agent`) keep the process alive by
 * their open handles, so nothing here calls process.exit.
 */
import { readFileSync } from 'node:fs';
import { runCli } from './program.js';

// `vnp get iface | head`: a closed pipe ends output quietly, as in other tools.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  readStdin: () => readFileSync(0, 'utf8'),
});
process.exitCode = code;
