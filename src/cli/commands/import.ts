/** `vnp import k8s -f FILE|DIR|- [--subnet S] [--source NAME] [--dry-run] [-o yaml|json]`. */
import type { Command } from 'commander';
import type { ImportK8sResult } from '../../client/api-types.js';
import { collect, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';

interface ImportFlags {
  filename?: string[];
  subnet?: string;
  source?: string;
  dryRun?: boolean;
  output: OutputFormat;
  verbose?: boolean;
}

/**
 * Register `import k8s`.
 *
 * @example
 *   registerImport(program, ctx) // vnp import k8s -f cluster.yaml --dry-run -o yaml
 */
export function registerImport(program: Command, ctx: CliContext): void {
  const imp = program
    .command('import')
    .description('Import policy written for another system (k8s: Kubernetes NetworkPolicy)')
    .addHelpText(
      'after',
      `
Examples:
  vnp import k8s -f manifests/ --dry-run -o yaml
  kubectl get ns,pods,networkpolicies -A -o yaml | vnp import k8s -f -`,
    );
  imp
    .command('k8s')
    .description('Import Kubernetes Namespaces, Pods and NetworkPolicies with upstream semantics')
    .option(
      '-f, --filename <path>',
      'manifest file, directory (recursive, sorted) or - for stdin; repeatable',
      collect,
    )
    .option('--subnet <name>', 'the vnp subnet pods are recorded in (default pods)')
    .option('--source <name>', 'the import source: a re-import replaces what it made (default k8s)')
    .option('--dry-run', 'show what would change and run the tests, change nothing')
    .option(
      '-o, --output <format>',
      'json | yaml | table; with --dry-run, yaml prints the vnp documents',
      outputArg,
      'table' as OutputFormat,
    )
    .option('-v, --verbose', 'also list unchanged resources')
    .addHelpText(
      'after',
      `
Manifests as kubectl prints them: single objects, multi-document YAML, JSON, and
kind: List. v1 Namespace and Pod and networking.k8s.io/v1 NetworkPolicy are read;
vnp kind: Test documents given alongside are checked as in apply. The import is
declarative per --source: what the same source imported before and is now absent is
deleted in the same revision. See docs/kubernetes.md for how each construct maps.

Examples:
  kubectl get ns,pods,networkpolicies -A -o yaml | vnp import k8s -f -
  vnp import k8s -f manifests/ --subnet pods --dry-run -o yaml > vnp-policy.yaml
  vnp import k8s -f staging.yaml --source staging`,
    )
    .action(async (opts: ImportFlags, cmd: Command) => {
      if (opts.filename === undefined || opts.filename.length === 0) {
        cmd.error('error: required option -f, --filename <path> not specified', { exitCode: 1 });
      }
      const { loadDocuments } = await import('../load-documents.js');
      const loaded = loadDocuments(opts.filename, {
        cwd: ctx.io.cwd,
        foreign: true,
        ...(ctx.io.readStdin ? { readStdin: ctx.io.readStdin } : {}),
      });
      const client = await ctx.client(cmd);
      const result = await client.importK8s({
        objects: loaded.map((l) => l.doc),
        ...(opts.subnet !== undefined ? { subnet: opts.subnet } : {}),
        ...(opts.source !== undefined ? { source: opts.source } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
      });
      await printResult(ctx, result, opts);
    });
}

async function printResult(
  ctx: CliContext,
  result: ImportK8sResult,
  opts: ImportFlags,
): Promise<void> {
  for (const w of result.warnings) ctx.err(`warning: ${w}\n`);
  for (const w of result.ruleWarnings ?? []) ctx.err(`warning: ${w.message}\n`);
  // A dry run's YAML is the vnp documents themselves: readable, and `vnp apply`-able.
  if (opts.output === 'yaml' && opts.dryRun) {
    ctx.out(toYaml(result.documents, { multiDocument: true }));
  } else if (opts.output === 'json') ctx.out(toJson(result));
  else if (opts.output === 'yaml') ctx.out(toYaml(result));
  else {
    const { formatApplyResult } = await import('../diff-format.js');
    ctx.out(
      formatApplyResult(
        { ...result, dryRun: result.dryRun ?? opts.dryRun === true },
        { verbose: opts.verbose === true },
      ),
    );
  }
}
