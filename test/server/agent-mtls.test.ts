/**
 * Agent identity bound to the host by a client certificate (issue #11; docs/security.md,
 * "Agent client certificates"): a real HTTPS manager with `--agent-mtls required`, the
 * CA it generated (`--tls-generate`'s files), certificates issued as `vnp cert issue`
 * does, and real TLS clients — node's https and the agent protocol client (followHost,
 * WebSocket channel and NDJSON with HTTP acks).
 *
 * - agent token + its host's certificate → served; without a certificate → 401; a
 *   certificate for another host → 403; a certificate from another CA → the connection
 *   is closed after the handshake, no HTTP answer; each audited.
 * - every operation of /openapi.json: an agent token without its certificate is refused
 *   everywhere, with it answered as the "Access levels" table says (agent-own-host).
 * - people (viewer …) need no certificate.
 *
 * `optional` differs only in what checkAgentCert decides (src/server/agent-mtls.test.ts):
 * one manager start is enough here.
 */
import { Agent, request, type AgentOptions } from 'node:https';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentMtls } from '../../src/config/settings.js';
import { followHost } from '../../src/agent/protocol/follow-host.js';
import { parseSettings } from '../../src/config/settings.js';
import { runCli } from '../../src/cli/program.js';
import { generatedTls } from '../../src/server/run-server.js';
import { issueAgentCert } from '../../src/server/client-cert.js';
import { ensureGeneratedTls } from '../../src/server/tls-generate.js';
import { documentedTable, meets, operationsOf } from './support/access-table.js';
import { DENIED_AUDIT_SETTINGS } from './support/denied-audit-suite.js';
import { MODEL } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

interface Pem {
  cert: string;
  key: string;
}

let dir: string;
let ca: string;
/** Certificates by name: host-a and host-b from the manager's CA, host-a from another CA. */
const certs: Record<'own' | 'otherHost' | 'otherCa', Pem> = {} as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vnp-mtls-'));
  const made = await ensureGeneratedTls(join(dir, 'manager'), ['127.0.0.1', 'localhost']);
  const other = await ensureGeneratedTls(join(dir, 'other'), ['127.0.0.1']);
  ca = await readFile(made.caFile, 'utf8');
  const signer = { certPem: ca, keyPem: await readFile(join(dir, 'manager/tls-ca.key'), 'utf8') };
  const foreign = {
    certPem: await readFile(other.caFile, 'utf8'),
    keyPem: await readFile(join(dir, 'other/tls-ca.key'), 'utf8'),
  };
  const issue = (by: typeof signer, host: string): Pem => {
    const c = issueAgentCert({ ...by }, host, { now: new Date(), ttlMs: 86_400_000 });
    return { cert: c.certPem, key: c.keyPem };
  };
  certs.own = await issueByCli(join(dir, 'manager'), 'host-a');
  certs.otherHost = issue(signer, 'host-b');
  certs.otherCa = issue(foreign, 'host-a');
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `vnp cert issue --host HOST --data-dir DIR --out DIR/out`, then its two files. */
async function issueByCli(dataDir: string, host: string): Promise<Pem> {
  const out = join(dir, 'out');
  await mkdir(out, { recursive: true });
  let stderr = '';
  const code = await runCli(
    ['cert', 'issue', '--host', host, '--data-dir', dataDir, '--out', out],
    {
      env: {},
      stdout: { write: () => true },
      stderr: { write: (t: string) => ((stderr += t), true) },
      cwd: dir,
    },
  );
  expect(code, stderr).toBe(0);
  expect((await stat(join(out, `agent-${host}.key`))).mode & 0o777).toBe(0o600);
  // Issuing again would overwrite the key an agent holds: refused without --force.
  const again = await runCli(
    ['cert', 'issue', '--host', host, '--data-dir', dataDir, '--out', out],
    {
      env: {},
      stdout: { write: () => true },
      stderr: { write: () => true },
      cwd: dir,
    },
  );
  expect(again).not.toBe(0);
  return {
    cert: await readFile(join(out, `agent-${host}.pem`), 'utf8'),
    key: await readFile(join(out, `agent-${host}.key`), 'utf8'),
  };
}

async function startManager(mode: AgentMtls): Promise<{ s: TestServer; url: string }> {
  const tls = join(dir, 'manager');
  const s = await startTestServer({
    settings: {
      ...DENIED_AUDIT_SETTINGS,
      tls: { certFile: join(tls, 'tls-server.pem'), keyFile: join(tls, 'tls-server.key') },
      agentMtls: mode,
      agentCaFile: join(tls, 'tls-ca.pem'),
    },
  });
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  return { s, url };
}

type Answer = { status: number; code?: string } | { error: string };

/** One HTTPS request over `agent` (which carries the client certificate, if any). */
function call(agent: Agent, url: string, method: string, token: string): Promise<Answer> {
  const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        agent,
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        // A watch streams: its status is known, the rest is not needed.
        if (url.includes('/watch')) {
          res.destroy();
          return resolve({ status: res.statusCode ?? 0 });
        }
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}) });
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

const agents: Agent[] = [];
function clientAgent(pem?: Pem): Agent {
  const options: AgentOptions = { ca, keepAlive: true, ...(pem ?? {}) };
  const a = new Agent(options);
  agents.push(a);
  return a;
}
afterAll(() => agents.forEach((a) => a.destroy()));

describe('--agent-mtls required', () => {
  let s: TestServer;
  let url: string;
  beforeAll(async () => {
    ({ s, url } = await startManager('required'));
    expect((await s.call('POST', '/v1/apply', { body: { documents: MODEL } })).status).toBe(200);
  }, 60_000);
  afterAll(async () => s?.close());

  const state = (): string => `${url}/v1/hosts/host-a/state`;

  it('serves an agent token with the certificate of its host', async () => {
    expect(await call(clientAgent(certs.own), state(), 'GET', s.tokens.agent)).toEqual({
      status: 200,
    });
  });

  it('a resumed TLS session keeps its certificate (a new connection per request)', async () => {
    const agent = new Agent({ ca, keepAlive: false, ...certs.own });
    agents.push(agent);
    const resumed: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const headers = { authorization: `Bearer ${s.tokens.agent}` };
        const req = request(state(), { agent, headers }, (res) => {
          resumed.push((res.socket as TLSSocket).isSessionReused());
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    }
    // Not three full handshakes: a later connection resumed the first one's session.
    expect(resumed.slice(1)).toContain(true);
  });

  it('refuses an agent token without a certificate (401) and with another host’s (403)', async () => {
    expect(await call(clientAgent(), state(), 'GET', s.tokens.agent)).toEqual({
      status: 401,
      code: 'VNP_ERR_NO_CLIENT_CERT',
    });
    expect(await call(clientAgent(certs.otherHost), state(), 'GET', s.tokens.agent)).toEqual({
      status: 403,
      code: 'VNP_ERR_CLIENT_CERT_HOST',
    });
  });

  it('closes a connection whose certificate another CA issued, before any HTTP', async () => {
    const got = await call(clientAgent(certs.otherCa), state(), 'GET', s.tokens.agent);
    expect(got).toHaveProperty('error');
    expect((got as { error: string }).error).toMatch(/ECONNRESET|EPIPE|socket hang up|ERR_SSL/i);
  });

  it('asks nothing more of people: a viewer without a certificate is served', async () => {
    expect(await call(clientAgent(), state(), 'GET', s.tokens.viewer)).toEqual({ status: 200 });
  });

  it('audits each refusal: 401, 403 and the refused handshake (495)', async () => {
    await s.denials.settled();
    const r = await s.call('GET', '/v1/audit?limit=1000');
    const actions = ((r.body.items ?? r.body) as { action: string }[]).map((e) => e.action);
    const id = s.tokenIds.agent;
    expect(actions).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^denied 401 GET /v1/hosts/host-a/state from \\S+: agent token ${id} is accepted only with a client certificate`,
        ),
      ),
    );
    expect(actions).toContainEqual(
      expect.stringMatching(/^denied 403 GET \/v1\/hosts\/host-a\/state .*names host "host-b"/),
    );
    expect(actions).toContainEqual(
      expect.stringMatching(
        /^denied 495 TLS handshake from \S+: client certificate CN=host-a not accepted: /,
      ),
    );
  });

  it('every /openapi.json operation: an agent token counts only with its host’s certificate', async () => {
    const table = documentedTable();
    const doc = (await s.call('GET', '/openapi.json', { as: null })).body as never;
    const own = clientAgent(certs.own);
    const none = clientAgent();
    const other = clientAgent(certs.otherHost);
    const failures: string[] = [];
    for (const { method, path, access } of operationsOf(doc)) {
      const concrete = url + path.replace('{host}', 'host-a').replace(/\{\w+\}/g, 'zz-missing');
      const m = method.toUpperCase();
      const row = table.get(access ?? '')!;
      const mine = row['agent-own-host'] === 'own' ? 'ok' : row['agent-own-host'];
      const refused = access === 'public' ? 'ok' : undefined;
      const cases = [
        [own, 'with its certificate', mine],
        [none, 'without a certificate', refused ?? '401'],
        [other, "with host-b's certificate", refused ?? '403'],
      ] as const;
      for (const [agent, what, want] of cases) {
        const got = await call(agent, concrete, m, s.tokens.agent);
        const status = 'status' in got ? got.status : -1;
        if (!meets(want, status))
          failures.push(`${m} ${path} ${what}: ${JSON.stringify(got)}, want ${want}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('the agent protocol client follows its host with --cert-file/--key-file (WebSocket and NDJSON)', async () => {
    for (const transport of ['websocket', 'ndjson'] as const) {
      const acks: number[] = [];
      const f = followHost({
        servers: [url],
        host: 'host-a',
        token: s.tokens.agent,
        ca,
        clientCert: certs.own,
        transport,
        onAck: (rev) => acks.push(rev),
      });
      try {
        await f.ready;
        expect(f.state?.host).toBe('host-a');
        await expect.poll(() => acks.length, { timeout: 10_000 }).toBeGreaterThan(0);
      } finally {
        await f.stop();
      }
    }
  }, 60_000);
});

describe('vnp server --tls-generate --agent-mtls', () => {
  it('`vnp cert issue` without a CA says how to make one, and writes nothing', async () => {
    const empty = join(dir, 'no-ca');
    const out = join(dir, 'no-ca-out');
    let stderr = '';
    const code = await runCli(
      ['cert', 'issue', '--host', 'host-a', '--data-dir', empty, '--out', out],
      {
        env: {},
        stdout: { write: () => true },
        stderr: { write: (t: string) => ((stderr += t), true) },
        cwd: dir,
      },
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain(`ca-cert: ${join(empty, 'tls-ca.pem')}`);
    expect(stderr).toContain('vnp server --tls-generate');
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('verifies agent certificates against the generated CA unless VNP_AGENT_CA names one', async () => {
    const dataDir = join(dir, 'manager');
    const settings = parseSettings({ VNP_DATA_DIR: dataDir, VNP_AGENT_MTLS: 'optional' });
    settings.tlsGenerate = { sans: [] };
    const lines: string[] = [];
    const made = await generatedTls(settings, (l) => lines.push(l));
    expect(made.agentCaFile).toBe(join(dataDir, 'tls-ca.pem'));
    const own = await generatedTls({ ...settings, agentCaFile: '/etc/vnp/agents.pem' }, () => 0);
    expect(own.agentCaFile).toBe('/etc/vnp/agents.pem');
    const off = await generatedTls({ ...settings, agentMtls: 'off' }, () => 0);
    expect(off.agentCaFile).toBeUndefined();
  });
});
