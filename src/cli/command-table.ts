/**
 * Which module defines each top-level command, as data: the build bundles each
 * light command into one file of its own (scripts/build-bundle.mjs), and main.ts
 * runs that file when the run names the command, so `vnp get interfaces` reads
 * one module instead of twenty-odd chunks (ADR 0073). Everything else — `vnp
 * --help`, `vnp help …`, an unknown command, the daemons — runs the whole program
 * (program.ts). command-table.test.ts checks this table against the whole program.
 */

export interface CommandModule {
  /** The module under src/cli/commands/ (without extension). */
  module: string;
  /** Its exported `register…(program, ctx, setExitCode?)` function. */
  register: string;
  /** The top-level commands (and aliases) it defines. */
  names: readonly string[];
}

/**
 * The commands that run from a bundle of their own: their implementation (what the
 * actions `await import()`) is small. Not here: the daemons (the manager and the
 * agent), `completion` (it walks the whole tree), `cert` and `token` (they load
 * server modules), `import`.
 */
export const LIGHT_COMMANDS: readonly CommandModule[] = [
  { module: 'apply', register: 'registerApply', names: ['apply'] },
  { module: 'get', register: 'registerGet', names: ['get'] },
  { module: 'delete', register: 'registerDelete', names: ['delete'] },
  { module: 'describe', register: 'registerDescribe', names: ['describe'] },
  { module: 'identities', register: 'registerIdentities', names: ['identities', 'identity'] },
  {
    module: 'interface-ops',
    register: 'registerInterfaceOps',
    names: ['untag', 'attach', 'detach', 'tag'],
  },
  { module: 'check', register: 'registerCheck', names: ['check'] },
  { module: 'event', register: 'registerEvent', names: ['event'] },
  { module: 'status', register: 'registerStatus', names: ['status'] },
  { module: 'audit', register: 'registerAudit', names: ['audit'] },
  { module: 'watch', register: 'registerWatch', names: ['watch'] },
  { module: 'flows', register: 'registerFlows', names: ['flows'] },
  { module: 'history', register: 'registerHistory', names: ['history', 'diff'] },
  { module: 'rollback', register: 'registerRollback', names: ['rollback'] },
  { module: 'who-can-reach', register: 'registerWhoCanReach', names: ['who-can-reach'] },
  { module: 'auth', register: 'registerAuth', names: ['auth'] },
  { module: 'config', register: 'registerConfig', names: ['config'] },
  { module: 'version', register: 'registerVersion', names: ['version'] },
];

/** The root program's options that take a value (program.ts defines them; a test compares). */
export const GLOBAL_VALUE_OPTIONS: ReadonlySet<string> = new Set([
  '-s',
  '--server',
  '--token',
  '--ca-file',
  '--context',
]);

/**
 * The top-level command a run names, skipping the global options before it;
 * undefined when anything else comes first (`--help`, `-V`, an unknown option) or
 * there is no command, so the whole program answers as before.
 *
 * @example
 *   commandOf(['-s', 'http://m:7400', 'get', 'iface']) // 'get'
 *   commandOf(['--help']) // undefined
 */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) return a;
    if (GLOBAL_VALUE_OPTIONS.has(a)) i++;
    else if (a.includes('=') && GLOBAL_VALUE_OPTIONS.has(a.slice(0, a.indexOf('=')))) continue;
    else if (!/^-s./.test(a)) return undefined; // `-sURL` is `-s URL`
  }
  return undefined;
}

/**
 * The light command module a run names, if any.
 *
 * @example lightCommandOf(['get', 'iface'])?.module // 'get'
 */
export function lightCommandOf(argv: readonly string[]): CommandModule | undefined {
  const name = commandOf(argv);
  return name === undefined ? undefined : LIGHT_COMMANDS.find((m) => m.names.includes(name));
}
