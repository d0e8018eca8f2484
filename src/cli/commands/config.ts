/**
 * `vnp config use-context|set-context|delete-context|get-contexts|current-context|view`:
 * contexts as kubectl's (src/cli/config-file.ts; precedence in docs/cli.md "Contexts").
 */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import { outputArg } from '../arguments.js';
import type { CliContext, GlobalOptions } from '../context.js';
import type { OutputFormat } from '../output.js';

/** Load the config file's module and the config (never before a config command runs). */
async function opened(ctx: CliContext) {
  const file = await import('../config-file.js');
  const path = file.configPath(ctx.io.env);
  if (path === undefined)
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      'no config file: set HOME, XDG_CONFIG_HOME or VNP_CONFIG',
      {
        field: 'config',
      },
    );
  return { file, config: file.loadConfig(path) };
}

/**
 * Register `config` and its subcommands.
 *
 * @example
 *   registerConfig(program, ctx) // vnp config use-context prod
 */
export function registerConfig(program: Command, ctx: CliContext): void {
  const config = program
    .command('config')
    .description(
      'Contexts: named managers with their token and CA files (~/.config/vnp/config.yaml)',
    )
    .addHelpText(
      'after',
      `
The file is $VNP_CONFIG, else $XDG_CONFIG_HOME/vnp/config.yaml, else ~/.config/vnp/config.yaml
(written 0600). Which values a command uses: flags (--server, --token, --ca-file), then the
context --context names, then VNP_SERVER/VNP_TOKEN/VNP_CA_FILE, then the current context,
then $VNP_DATA_DIR/admin.token and http://127.0.0.1:7400.

Examples:
  vnp config set-context prod --server https://m1:7400 --token-file ~/.vnp/prod.token --ca-file ca.pem
  vnp config use-context prod
  vnp config get-contexts
  vnp --context staging get iface`,
    );

  config
    .command('set-context')
    .description('Create or change a context (--server and --ca-file are the global flags)')
    .argument('<name>', 'context name')
    .option('--token-file <file>', 'a file holding the bearer token (stored as an absolute path)')
    .option('--current', 'also make it the current context')
    .addHelpText(
      'after',
      `\nExamples:\n  vnp --server https://m1:7400 --ca-file ca.pem config set-context prod --token-file prod.token --current\n  vnp --server http://127.0.0.1:7400 config set-context local\n`,
    )
    .action(async (name: string, opts: { tokenFile?: string; current?: boolean }, cmd: Command) => {
      const { resolve } = await import('node:path');
      const { file, config: cfg } = await opened(ctx);
      if (!/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,62}$/.test(name))
        throw new VnpError(
          'VNP_ERR_VALIDATION',
          `context name "${name}": letters, digits and . _ @ : - (≤ 63)`,
          {
            field: 'name',
          },
        );
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const abs = (f: string | undefined) => (f === undefined ? undefined : resolve(ctx.io.cwd, f));
      const prev = cfg.contexts.find((c) => c.name === name);
      const next = {
        ...(prev ?? { name }),
        ...(g.server !== undefined ? { server: g.server } : {}),
        ...(opts.tokenFile !== undefined ? { tokenFile: abs(opts.tokenFile) } : {}),
        ...(g.caFile !== undefined ? { caFile: abs(g.caFile) } : {}),
      };
      cfg.contexts = prev
        ? cfg.contexts.map((c) => (c === prev ? next : c))
        : [...cfg.contexts, next];
      if (opts.current || cfg.currentContext === undefined) cfg.currentContext = name;
      file.saveConfig(cfg);
      ctx.out(
        `context "${name}" ${prev ? 'modified' : 'created'}${cfg.currentContext === name ? ' (current)' : ''} in ${cfg.path}\n`,
      );
    });

  config
    .command('use-context')
    .description('Make a context the current one')
    .argument('<name>', 'context name')
    .addHelpText('after', `\nExamples:\n  vnp config use-context prod\n`)
    .action(async (name: string) => {
      const { file, config: cfg } = await opened(ctx);
      cfg.currentContext = file.findContext(cfg, name).name;
      file.saveConfig(cfg);
      ctx.out(`switched to context "${name}"\n`);
    });

  config
    .command('delete-context')
    .description('Remove a context')
    .argument('<name>', 'context name')
    .addHelpText('after', `\nExamples:\n  vnp config delete-context old\n`)
    .action(async (name: string) => {
      const { file, config: cfg } = await opened(ctx);
      const c = file.findContext(cfg, name);
      cfg.contexts = cfg.contexts.filter((x) => x !== c);
      if (cfg.currentContext === name) delete cfg.currentContext;
      file.saveConfig(cfg);
      ctx.out(`deleted context "${name}"\n`);
    });

  config
    .command('current-context')
    .description('Print the current context')
    .addHelpText('after', `\nExamples:\n  vnp config current-context\n`)
    .action(async () => {
      const { config: cfg } = await opened(ctx);
      if (cfg.currentContext === undefined)
        throw new VnpError('VNP_ERR_NOT_FOUND', `current-context is not set in ${cfg.path}`, {
          field: 'current-context',
        });
      ctx.out(cfg.currentContext + '\n');
    });

  config
    .command('get-contexts')
    .description('List the contexts (* marks the current one)')
    .option('-o, --output <format>', 'table | json | yaml', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `\nExamples:\n  vnp config get-contexts\n  vnp config get-contexts -o yaml\n`,
    )
    .action(async (opts: { output: OutputFormat }) => {
      const { config: cfg } = await opened(ctx);
      const { formatTable, toJson, toYaml } = await import('../output.js');
      if (opts.output === 'json') return ctx.out(toJson(cfg));
      if (opts.output === 'yaml') return ctx.out(toYaml(cfg));
      ctx.out(
        formatTable(
          ['CURRENT', 'NAME', 'SERVER', 'TOKEN-FILE', 'CA-FILE'],
          cfg.contexts.map((c) => [
            c.name === cfg.currentContext ? '*' : '',
            c.name,
            c.server ?? '',
            c.tokenFile ?? '',
            c.caFile ?? '',
          ]),
        ),
      );
    });

  config
    .command('view')
    .description(
      'Show the config file merged with this run: the manager, CA and token a command would use (token redacted)',
    )
    .option('-o, --output <format>', 'yaml | json', outputArg, 'yaml' as OutputFormat)
    .option('--minify', 'only the context in use')
    .option('--raw', 'show the token instead of REDACTED')
    .addHelpText(
      'after',
      `
As kubectl config view: the contexts of the config file, then "in-use": what flags, --context,
VNP_SERVER/VNP_TOKEN/VNP_CA_FILE and the current context resolve to, and where the token
comes from (--token, a context's token-file, VNP_TOKEN or the data directory's admin.token).

Examples:
  vnp config view
  vnp --context staging config view --minify
  vnp config view -o json`,
    )
    .action(
      async (opts: { output: OutputFormat; minify?: boolean; raw?: boolean }, cmd: Command) => {
        const [{ configView }, { toJson, toYaml }] = await Promise.all([
          import('../config-view.js'),
          import('../output.js'),
        ]);
        if (opts.output !== 'yaml' && opts.output !== 'json')
          throw new VnpError(
            'VNP_ERR_VALIDATION',
            `--output: config view prints yaml or json, not ${opts.output}`,
            {
              field: 'output',
            },
          );
        const view = configView({
          flags: cmd.optsWithGlobals<GlobalOptions>(),
          env: ctx.io.env,
          cwd: ctx.io.cwd,
          ...(opts.raw ? { raw: true } : {}),
          ...(opts.minify ? { minify: true } : {}),
        });
        ctx.out(opts.output === 'json' ? toJson(view) : toYaml(view));
      },
    );
}
