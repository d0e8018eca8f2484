/**
 * `vnp server --tls-generate` and CA pinning: a real manager (runServer on PGlite)
 * serving the certificate it generated, the CLI in-process with and without
 * `--ca-file`, the agent protocol client over wss: with the pinned CA, and a
 * restart reusing the same CA.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/config/settings.js';
import { runServer, type RunningServer } from '../../src/server/run-server.js';
import { ensureGeneratedTls } from '../../src/server/tls-generate.js';
import { runCli } from '../../src/cli/program.js';
import { followHost } from '../../src/agent/protocol/follow-host.js';

async function start(dataDir: string): Promise<{ server: RunningServer; lines: string[] }> {
  const lines: string[] = [];
  const settings = parseSettings({
    VNP_DATA_DIR: dataDir,
    VNP_LISTEN: '127.0.0.1:0',
    VNP_LOG_LEVEL: 'warn',
  });
  settings.tlsGenerate = { sans: ['vnp.test'] };
  const server = await runServer(settings, { handleSignals: false, print: (l) => lines.push(l) });
  return { server, lines };
}

async function vnp(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd: '/nonexistent',
  });
  return { code, stdout, stderr };
}

describe('vnp server --tls-generate', () => {
  let dir: string;
  let server: RunningServer;
  let lines: string[];
  let env: Record<string, string>;
  let caFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnp-tls-'));
    ({ server, lines } = await start(dir));
    caFile = join(dir, 'tls-ca.pem');
    const token = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    env = { VNP_SERVER: server.url, VNP_TOKEN: token };
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and prints where the CA certificate is', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(lines).toContain(
      `vnp: TLS: created CA certificate ${caFile} (clients: --ca-file ${caFile})`,
    );
    for (const key of ['tls-ca.key', 'tls-server.key']) {
      expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
    }
  });

  it('the CLI succeeds with --ca-file or VNP_CA_FILE', async () => {
    const flag = await vnp(['--ca-file', caFile, 'get', 'iface', '-o', 'json'], env);
    expect(flag.stderr).toBe('');
    expect(flag.code).toBe(0);
    const fromEnv = await vnp(['get', 'iface', '-o', 'json'], { ...env, VNP_CA_FILE: caFile });
    expect(fromEnv.code).toBe(0);
  });

  it('the CLI refuses the manager without the CA, or with another CA, in one clear line', async () => {
    const without = await vnp(['get', 'iface'], env);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(
      /cannot reach the manager .*its TLS certificate is not trusted: pass the manager's CA with --ca-file FILE or VNP_CA_FILE/,
    );
    const other = await mkdtemp(join(tmpdir(), 'vnp-tls-other-'));
    try {
      const made = await ensureGeneratedTls(other, ['127.0.0.1']);
      const wrong = await vnp(['--ca-file', made.caFile, 'get', 'iface'], env);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/its TLS certificate is not trusted/);
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    const notPem = await vnp(['--ca-file', join(dir, 'admin.token'), 'get', 'iface'], env);
    expect(notPem.stderr).toMatch(/--ca-file .*admin\.token: expected a PEM certificate/);
  });

  it('the agent protocol client follows its host over wss: with the pinned CA', async () => {
    const created = await vnp(
      ['--ca-file', caFile, 'token', 'create', '--role', 'agent', '--host', 'host-a', '-o', 'json'],
      env,
    );
    expect(created.code).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const follower = followHost({
      servers: [server.url],
      host: 'host-a',
      token,
      ca: await readFile(caFile, 'utf8'),
      apply: () => undefined,
    });
    try {
      await follower.ready;
      expect(follower.connectedTo).toBe(server.url);
      expect(follower.stats.channels).toBeGreaterThan(0);
    } finally {
      await follower.stop();
    }
  });

  it('--tls-san without --tls-generate is refused in one line', async () => {
    const r = await vnp(['server', '--tls-san', 'mgr.example'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: VNP_ERR_VALIDATION: --tls-san needs --tls-generate\n');
  });

  it('a restart reuses the same CA and certificate', async () => {
    const ca = await readFile(caFile, 'utf8');
    const cert = await readFile(join(dir, 'tls-server.pem'), 'utf8');
    await server.stop();
    ({ server, lines } = await start(dir));
    expect(lines).toContain(
      `vnp: TLS: reusing CA certificate ${caFile} (clients: --ca-file ${caFile})`,
    );
    expect(await readFile(caFile, 'utf8')).toBe(ca);
    expect(await readFile(join(dir, 'tls-server.pem'), 'utf8')).toBe(cert);
    env.VNP_SERVER = server.url;
    const again = await vnp(['--ca-file', caFile, 'get', 'iface', '-o', 'json'], env);
    expect(again.code).toBe(0);
  }, 60_000);
});
