/**
 * `vnp server` and `vnp agent`: the long-running processes. Both are imported
 * lazily so the rest of the CLI starts fast and works in a build without them.
 */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliContext, GlobalOptions } from '../context.js';

/**
 * Import a part of this build, or explain in one line that it is missing. `load` is
 * `() => import('<static specifier>')`, so the bundler (scripts/build-bundle.mjs)
 * follows it; `specifier` names the module in the message.
 */
async function importPart<T>(load: () => Promise<T>, specifier: string, what: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const base = specifier.replace(/^.*\//, '').replace(/\.js$/, '');
    // Only the module itself missing means "not in this build"; a missing import
    // inside it is a real error and propagates.
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`${base}.`)) {
      throw new VnpError(
        'VNP_ERR_UNAVAILABLE',
        `${what} is not part of this build (${specifier} is missing)`,
      );
    }
    throw e;
  }
}

/**
 * Split `--server a,b` into URLs.
 *
 * @example
 *   splitServers('http://m1:7400, http://m2:7400') // ['http://m1:7400', 'http://m2:7400']
 */
export function splitServers(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Register `server` and `agent`.
 *
 * @example
 *   registerDaemons(program, ctx) // vnp server
 */
export function registerDaemons(program: Command, ctx: CliContext): void {
  program
    .command('server')
    .description('Run the manager (REST API, store, distribution to PEPs)')
    .addHelpText(
      'after',
      `
Configured by environment:
  VNP_LISTEN        address:port to listen on (default 127.0.0.1:7400)
  VNP_DATA_DIR      data directory: embedded store, admin.token (default ./.vnp)
  VNP_DATABASE_URL  postgres://… to use PostgreSQL instead of the embedded store
  VNP_TLS_CERT, VNP_TLS_KEY  PEM files: serve HTTPS with them
  VNP_AGENT_MTLS    off | optional | required: agent tokens need a client certificate
                    (default off; --agent-mtls overrides it; docs/security.md)
  VNP_AGENT_CA      PEM file of the CA issuing agent certificates (default with
                    --tls-generate: the generated tls-ca.pem)

On first start the manager writes an admin token to $VNP_DATA_DIR/admin.token
(mode 0600); the CLI on the same machine picks it up from there.

Examples:
  vnp server
  VNP_LISTEN=0.0.0.0:7400 VNP_DATA_DIR=/var/lib/vnp vnp server --tls-generate --tls-san mgr.example
  vnp server --tls-generate --agent-mtls required   # agents: vnp cert issue --host NAME`,
    )
    .option(
      '--tls-generate',
      'serve HTTPS with a CA and certificate made in $VNP_DATA_DIR on first start (tls-ca.pem: give it to clients as --ca-file)',
    )
    .option(
      '--tls-san <name|ip>',
      'another name or address for the generated certificate (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--agent-mtls <mode>',
      "off | optional | required: an agent token needs a client certificate from the manager's CA naming its host (default $VNP_AGENT_MTLS, else off)",
    )
    .action(async (flags: { tlsGenerate?: boolean; tlsSan: string[]; agentMtls?: string }) => {
      // Static specifiers: the manager is part of every build; lazy so that the
      // other verbs do not load Fastify, the store and the engine.
      const { parseSettings } = await import('../../config/settings.js');
      const { runServer } = await import('../../server/run-server.js');
      if (flags.tlsSan.length > 0 && !flags.tlsGenerate) {
        throw new VnpError('VNP_ERR_VALIDATION', '--tls-san needs --tls-generate', {
          field: 'tls-san',
        });
      }
      // The flag is the variable: parsed (and refused) in one place, src/config.
      const settings = parseSettings({
        ...ctx.io.env,
        ...(flags.agentMtls !== undefined ? { VNP_AGENT_MTLS: flags.agentMtls } : {}),
      });
      if (flags.tlsGenerate) settings.tlsGenerate = { sans: flags.tlsSan };
      await runServer(settings, { print: (line) => ctx.out(line + '\n') });
    });

  program
    .command('agent')
    .description(
      "Run a PEP: enforce the manager's partitioning on this Linux host (nftables, VXLAN-GBP) or on an Open vSwitch bridge",
    )
    .option('--server <url[,url…]>', 'managers to connect to, in order (default $VNP_SERVER)')
    .requiredOption('--host <name>', "this PEP's host name (instances name it in `host`)")
    .option(
      '--token-file <file>',
      "file holding this host's agent token (vnp token create --role agent --host NAME)",
    )
    .option(
      '--cert-file <file>',
      'PEM client certificate for an https manager with --agent-mtls (vnp cert issue --host NAME; default $VNP_CERT_FILE)',
    )
    .option('--key-file <file>', 'its private key (default $VNP_KEY_FILE)')
    .option(
      '--underlay-ip <ip>',
      "this host's address on the underlay network (VXLAN endpoint; default: the address that reaches the first manager)",
    )
    .option(
      '--no-flows',
      'do not collect flow records (nftables: conntrack events and NFLOG; OVS: conntrack dumps and packet-ins; docs/flows.md)',
    )
    .option(
      '--deny-log-rate <n>',
      'denied packets per second this host samples to flow records (nftables: NFLOG; OVS: a metered packet-in; the rest are counted exactly, not sampled; 0: count only)',
    )
    .option(
      '--metrics-listen <host:port>',
      "serve the agent's Prometheus metrics (flow events seen, sampled, dropped; applies) on GET /metrics",
    )
    .option(
      '--datapath <kind>',
      'what enforces: nftables (the Linux kernel) or ovs (an Open vSwitch bridge, programmed by OpenFlow)',
      'nftables',
    )
    .option('--bridge <name>', 'with --datapath ovs: the bridge to own (created when missing)')
    .option(
      '--ovs-rundir <dir>',
      "with --datapath ovs: Open vSwitch's run directory (db.sock, BRIDGE.mgmt, ovs-vswitchd's control socket)",
      '/var/run/openvswitch',
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp token create --role agent --host host-a > /etc/vnp/agent.token
  vnp agent --server http://10.0.0.5:7400,http://10.0.0.6:7400 --host host-a \\
            --token-file /etc/vnp/agent.token --underlay-ip 10.0.0.21
  vnp agent --server http://10.0.0.5:7400 --host host-b --token-file /etc/vnp/agent.token \\
            --datapath ovs --bridge vnpbr      # an OVS PEP (docs/agent.md, "The OVS PEP")
  vnp agent --server https://mgr:7400 --host host-a --token-file /etc/vnp/agent.token \\
            --ca-file tls-ca.pem --cert-file agent-host-a.pem --key-file agent-host-a.key
                                               # a manager with --agent-mtls (vnp cert issue)`,
    )
    .action(async (opts: AgentFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const resolved = await resolveAgentOptions(opts, g, ctx);
      const { runAgent } = await importPart(
        () => import('../../agent/run-agent.js'),
        '../../agent/run-agent.js',
        'the agent',
      );
      ctx.err(
        `vnp agent: host ${resolved.host}, underlay ${resolved.underlayIp}, managers ${resolved.servers.join(', ')}\n`,
      );
      const log = (msg: string): void => ctx.err(`vnp agent: ${msg}\n`);
      const datapath = resolved.ovs
        ? new (
            await importPart(
              () => import('../../agent/ovs/ovs-datapath.js'),
              '../../agent/ovs/ovs-datapath.js',
              'the OVS datapath',
            )
          ).OvsDatapath({
            ...resolved.ovs,
            underlayIp: resolved.underlayIp,
            log,
            ...(resolved.denyLogRate !== undefined ? { denyLogRate: resolved.denyLogRate } : {}),
          })
        : undefined;
      const { ovs: _ovs, denyLogRate, ...run } = resolved;
      const handle = runAgent({
        ...run,
        log,
        ...(datapath
          ? { agentOptions: { datapath } }
          : denyLogRate !== undefined
            ? { agentOptions: { denyLog: { rate: denyLogRate } } }
            : {}),
        // Flow records: the kernel's conntrack events and NFLOG samples of the nftables
        // table, or the bridge's conntrack dumps and packet-ins (docs/flows.md).
        ...(opts.flows === false
          ? {}
          : { flows: datapath ? { source: datapath.flowSource() } : {} }),
      });
      // Stop cleanly on a signal: the kernel state stays (fail-static), the loop ends.
      const stop = (): void => {
        void handle.stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (opts.metricsListen !== undefined) await serveMetrics(opts.metricsListen, handle);
      await handle.ready;
      ctx.err(`vnp agent: enforcing (connected to ${handle.connectedTo ?? '?'})\n`);
    });
}

interface AgentFlags {
  host: string;
  /** false with --no-flows. */
  flows?: boolean;
  denyLogRate?: string;
  metricsListen?: string;
  tokenFile?: string;
  certFile?: string;
  keyFile?: string;
  underlayIp?: string;
  datapath?: string;
  bridge?: string;
  ovsRundir?: string;
}

/** An OVS bridge name: it is also a network device's name (IFNAMSIZ - 1). */
const BRIDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** `--datapath`, `--bridge`, `--ovs-rundir` checked together. */
function resolveDatapath(opts: AgentFlags): ResolvedAgentOptions['ovs'] {
  const kind = opts.datapath ?? 'nftables';
  if (kind !== 'nftables' && kind !== 'ovs')
    throw new VnpError('VNP_ERR_VALIDATION', `--datapath ${kind}: expected nftables or ovs`, {
      field: 'datapath',
    });
  if (kind === 'nftables') {
    if (opts.bridge !== undefined)
      throw new VnpError('VNP_ERR_VALIDATION', '--bridge needs --datapath ovs', {
        field: 'bridge',
      });
    return undefined;
  }
  if (opts.bridge === undefined)
    throw new VnpError('VNP_ERR_VALIDATION', '--datapath ovs needs --bridge NAME', {
      field: 'bridge',
    });
  if (!BRIDGE_NAME.test(opts.bridge))
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `--bridge ${opts.bridge}: expected 1-15 letters, digits, '_', '.', '-' (a device name)`,
      { field: 'bridge' },
    );
  return { bridge: opts.bridge, rundir: opts.ovsRundir ?? '/var/run/openvswitch' };
}

/** What `runAgent` needs, resolved from flags and environment. */
export interface ResolvedAgentOptions {
  servers: string[];
  host: string;
  token: string;
  underlayIp: string;
  /** PEM of the only CA trusted for https managers (`--ca-file`, `VNP_CA_FILE`). */
  ca?: string;
  /** `--cert-file`/`--key-file`: the client certificate (agent mTLS). */
  clientCert?: { cert: string; key: string };
  /** `--datapath ovs`: the bridge and OVS's run directory. */
  ovs?: { bridge: string; rundir: string };
  /** `--deny-log-rate`: deny samples per second (either datapath). */
  denyLogRate?: number;
}

/**
 * Resolve the agent's managers, token and underlay address. The global --server
 * takes the value wherever it is written, so the list arrives through it.
 *
 * @example
 *   await resolveAgentOptions({ host: 'h', tokenFile: '/etc/vnp/agent.token' }, { server: 'http://m:7400' }, ctx)
 */
export async function resolveAgentOptions(
  opts: AgentFlags,
  g: GlobalOptions,
  ctx: CliContext,
): Promise<ResolvedAgentOptions> {
  const ovs = resolveDatapath(opts);
  const denyLogRate = resolveDenyLogRate(opts.denyLogRate);
  const { normaliseServer } = await import('../../client/client.js');
  const serverList = g.server ?? ctx.io.env.VNP_SERVER;
  const servers = serverList === undefined ? [] : splitServers(serverList).map(normaliseServer);
  if (servers.length === 0) {
    throw new VnpError('VNP_ERR_VALIDATION', '--server is required (or set VNP_SERVER)', {
      field: 'server',
    });
  }
  const { checkToken } = await import('../../client/credentials.js');
  const token = readAgentToken(
    opts.tokenFile,
    g.token ?? ctx.io.env.VNP_TOKEN,
    ctx.io.cwd,
    checkToken,
  );
  const underlayIp =
    opts.underlayIp ?? (await (await import('../underlay.js')).guessUnderlayIp(servers[0]!));
  if (underlayIp === undefined) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      '--underlay-ip is required: no address of this host was found',
      {
        field: 'underlay-ip',
      },
    );
  }
  const { readCaFile } = await import('../context.js');
  const ca = readCaFile(g.caFile ?? ctx.io.env.VNP_CA_FILE, ctx.io.cwd);
  const clientCert = readClientCert(
    opts.certFile ?? ctx.io.env.VNP_CERT_FILE,
    opts.keyFile ?? ctx.io.env.VNP_KEY_FILE,
    ctx.io.cwd,
  );
  return {
    servers,
    host: opts.host,
    token,
    underlayIp,
    ...(ca ? { ca } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(ovs ? { ovs } : {}),
    ...(denyLogRate !== undefined ? { denyLogRate } : {}),
  };
}

/** Serves the agent's metrics; a bad address or a port in use is the flag's error. */
async function serveMetrics(
  listen: string,
  handle: import('../../agent/metrics.js').MetricsSource,
): Promise<void> {
  const { serveAgentMetrics } = await importPart(
    () => import('../../agent/metrics.js'),
    '../../agent/metrics.js',
    'the agent',
  );
  await serveAgentMetrics(listen, handle).catch((e: unknown) => {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `--metrics-listen ${listen}: ${(e as Error).message}`,
      {
        field: 'metrics-listen',
      },
    );
  });
}

/** `--deny-log-rate`: a whole number of samples per second, 0 … 1,000,000. */
export function resolveDenyLogRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 1_000_000) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `--deny-log-rate: ${JSON.stringify(text)} is not a whole number of samples per second (0 … 1000000)`,
      { field: 'deny-log-rate' },
    );
  }
  return n;
}

/** Read a PEM file named by a flag, or say in one line why not. */
function readPem(flag: string, file: string, cwd: string, what: RegExp): string {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (e) {
    throw new VnpError('VNP_ERR_VALIDATION', `--${flag} ${file}: ${(e as Error).message}`, {
      field: flag,
    });
  }
  if (!what.test(text))
    throw new VnpError('VNP_ERR_VALIDATION', `--${flag} ${file}: expected PEM (${what.source})`, {
      field: flag,
    });
  return text;
}

/** `--cert-file` and `--key-file`: both or neither. */
export function readClientCert(
  certFile: string | undefined,
  keyFile: string | undefined,
  cwd: string,
): { cert: string; key: string } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? 'cert-file' : 'key-file';
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `--${missing} is needed too (a certificate and its key)`,
      {
        field: missing,
      },
    );
  }
  return {
    cert: readPem('cert-file', certFile, cwd, /-----BEGIN CERTIFICATE-----/),
    key: readPem('key-file', keyFile, cwd, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}

function readAgentToken(
  tokenFile: string | undefined,
  given: string | undefined,
  cwd: string,
  checkToken: (raw: string, source: string) => string,
): string {
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, tokenFile), 'utf8');
    } catch (e) {
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `--token-file ${tokenFile}: ${(e as Error).message}`,
        {
          field: 'token-file',
        },
      );
    }
    return checkToken(text, `--token-file ${tokenFile}`);
  }
  if (given !== undefined) return checkToken(given, '--token or VNP_TOKEN');
  throw new VnpError(
    'VNP_ERR_VALIDATION',
    'an agent token is required: --token-file F (vnp token create --role agent --host NAME), --token or VNP_TOKEN',
    { field: 'token-file' },
  );
}
