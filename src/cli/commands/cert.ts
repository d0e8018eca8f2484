/** `vnp cert issue`: an agent's client certificate, on the manager's host (agent mTLS). */
import type { Command } from 'commander';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';

interface IssueFlags {
  host: string;
  dataDir?: string;
  caCert?: string;
  caKey?: string;
  out: string;
  ttl?: string;
  force?: boolean;
  output: OutputFormat;
}

/**
 * Register `cert` and its subcommand.
 *
 * @example
 *   registerCert(program, ctx) // vnp cert issue --host host-a --data-dir /var/lib/vnp
 */
export function registerCert(program: Command, ctx: CliContext): void {
  const cert = program
    .command('cert')
    .description("Agent client certificates from the manager's CA (with vnp server --agent-mtls)")
    .addHelpText(
      'after',
      `
Examples:
  vnp cert issue --host host-a --data-dir /var/lib/vnp --out /tmp/host-a
  vnp cert issue --help`,
    );
  cert
    .command('issue')
    .description(
      "Issue a client certificate for an agent's host, signed by the manager's CA (offline, on the manager's host)",
    )
    .requiredOption('--host <host>', 'the host the certificate names (as its agent token does)')
    .option(
      '--data-dir <dir>',
      "the manager's data directory holding tls-ca.pem and tls-ca.key (vnp server --tls-generate; default $VNP_DATA_DIR, else ./.vnp)",
    )
    .option('--ca-cert <file>', 'the CA certificate (PEM), instead of DIR/tls-ca.pem')
    .option('--ca-key <file>', 'its RSA private key (PEM), instead of DIR/tls-ca.key')
    .option('--out <dir>', 'where agent-HOST.pem and agent-HOST.key (mode 0600) are written', '.')
    .option('--ttl <duration>', 'lifetime (at most the CA’s; default 365d)')
    .option('--force', 'replace existing files')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
The CA key never leaves the manager's host and no API uses it: a stolen admin token
can create agent tokens but not the certificates that --agent-mtls required asks for.
Copy both files to the agent's host (the key over a channel you trust) and run
vnp agent --cert-file agent-HOST.pem --key-file agent-HOST.key --ca-file tls-ca.pem.

Examples:
  vnp cert issue --host host-a --data-dir /var/lib/vnp --out /tmp/host-a
  vnp cert issue --host host-b --ca-cert ca.pem --ca-key ca.key --ttl 90d -o json`,
    )
    .action(async (opts: IssueFlags) => {
      const { parseDuration } = await import('../../model/duration.js');
      const { join, resolve } = await import('node:path');
      const { writeAgentCert, DEFAULT_CERT_TTL_MS, MAX_CERT_TTL_MS } =
        await import('../../server/client-cert.js');
      const ttlMs =
        opts.ttl === undefined
          ? DEFAULT_CERT_TTL_MS
          : parseDuration(opts.ttl, '--ttl', { min: 60_000, max: MAX_CERT_TTL_MS });
      const dir = resolve(ctx.io.cwd, opts.dataDir ?? ctx.io.env.VNP_DATA_DIR ?? './.vnp');
      const issued = await writeAgentCert({
        host: opts.host,
        caCertFile: resolve(ctx.io.cwd, opts.caCert ?? join(dir, 'tls-ca.pem')),
        caKeyFile: resolve(ctx.io.cwd, opts.caKey ?? join(dir, 'tls-ca.key')),
        outDir: resolve(ctx.io.cwd, opts.out),
        ttlMs,
        ...(opts.force ? { force: true } : {}),
      });
      const shown = { host: opts.host, ...issued, notAfter: issued.notAfter.toISOString() };
      if (opts.output === 'json') ctx.out(toJson(shown));
      else if (opts.output === 'yaml') ctx.out(toYaml(shown));
      else
        ctx.out(
          `certificate ${issued.certFile}\nkey         ${issued.keyFile}\nhost ${opts.host}, serial ${issued.serial}, valid until ${shown.notAfter}\n`,
        );
    });
}
