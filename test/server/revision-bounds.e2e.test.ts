/**
 * One request must not hang the manager (issue #11, critical 2): acknowledgements of
 * revision 1e21 (a viewer's) or 2^53 + 1 (the host's agent's) once spun the ack
 * histogram's `rev++` loop forever — /healthz stopped and SIGTERM was ignored. The
 * manager runs as a real process here, so a regression fails (timeouts) instead of
 * hanging the test run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManager, type Manager } from '../cli/harness.js';

let m: Manager;
const tokens: Record<string, string> = {};

async function api(method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(m.url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  m = await startManager();
  for (const [name, body] of [
    ['viewer', { role: 'viewer' }],
    ['agent', { role: 'agent', host: 'anyhost' }],
  ] as const) {
    const r = await api('POST', '/v1/tokens', m.adminToken, body);
    expect(r.status).toBe(201);
    tokens[name] = r.body.token as string;
  }
  // The agent has been sent something, as a real one would have.
  expect((await api('GET', '/v1/hosts/anyhost/state', tokens.agent)).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await m?.stop();
});

/** /healthz answers within one second. */
async function healthy(): Promise<void> {
  const t0 = Date.now();
  const res = await fetch(`${m.url}/healthz`, { signal: AbortSignal.timeout(1000) });
  expect(res.status).toBe(200);
  expect(Date.now() - t0).toBeLessThan(1000);
}

describe('huge revisions', () => {
  it.each([
    ['a viewer', 'viewer', '{"revision": 1e21}'],
    ['the agent', 'agent', '{"revision": 9007199254740993}'],
    ['the agent', 'agent', '{"revision": 1e308}'],
  ])(
    'an ack from %s (%s token, body %s) is refused and the manager stays up',
    async (_who, role, raw) => {
      const r = await api('POST', '/v1/hosts/anyhost/ack', tokens[role], raw);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      await healthy();
    },
  );

  it.each([
    ['/v1/rollback', '{"revision": 1e21}'],
    ['/v1/rollback', '{"revision": 9007199254740993}'],
  ])('%s with %s is refused by the schema', async (path, body) => {
    const r = await api('POST', path, m.adminToken, body);
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('revision');
    await healthy();
  });

  it('the manager still stops on SIGTERM', async () => {
    const t0 = Date.now();
    await m.stop();
    expect(Date.now() - t0).toBeLessThan(9000);
    m = undefined as unknown as Manager;
  }, 20_000);
});
