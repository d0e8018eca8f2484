/**
 * Token lifecycle against a real manager, on either store: the last-admin guard and
 * the offline recovery command, TTLs, rotation with a grace period, and last use.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import type { CliIo } from '../../../src/cli/context.js';
import { startTestServer, type StartOptions, type TestServer } from './test-server.js';

/** Run `vnp ARGS` in-process; stdout, stderr and the exit code. */
export async function vnpInProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    env: { VNP_SERVER: 'http://127.0.0.1:9', ...env },
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd: '/',
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

/**
 * Register the cases for one backend; `start` opens a manager on it.
 *
 * @example
 *   defineTokenLifecycle(() => ({}));
 */
export function defineTokenLifecycle(options: () => StartOptions): void {
  let s: TestServer;
  let clock = Date.parse('2026-06-01T00:00:00.000Z');
  beforeAll(async () => {
    s = await startTestServer({ ...options(), now: () => clock });
  });
  afterAll(async () => {
    await s?.close();
  });
  const withToken = (token: string) => ({ authorization: `Bearer ${token}` });

  it('refuses to revoke the last live admin token (409 VNP_ERR_LAST_ADMIN), not a second one', async () => {
    const last = await s.call('DELETE', `/v1/tokens/${s.tokenIds.admin}`);
    expect(last.status, last.text).toBe(409);
    expect(last.body.error.code).toBe('VNP_ERR_LAST_ADMIN');
    expect(last.body.error.message).toMatch(/--data-dir/);
    expect((await s.call('GET', '/v1/tokens')).status).toBe(200);
    const second = await s.call('POST', '/v1/tokens', { body: { role: 'admin' } });
    expect(second.status).toBe(201);
    const revoked = await s.call('DELETE', `/v1/tokens/${second.body.id}`);
    expect(revoked.status, revoked.text).toBe(200);
    const refused = await s.call('GET', '/v1/tokens', withToken(second.body.token));
    expect(refused.status).toBe(401);
  });

  it('an admin token with a TTL expires (401 naming it) and no longer counts as live', async () => {
    const r = await s.call('POST', '/v1/tokens', { body: { role: 'admin', ttl: '1h' } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.expiresAt).toBe(new Date(clock + 3_600_000).toISOString());
    expect((await s.call('GET', '/v1/subnets', withToken(r.body.token))).status).toBe(200);
    clock += 3_600_000 + 6000; // past the expiry and the cache's re-check
    await s.call('GET', '/v1/subnets', withToken(r.body.token)); // starts the re-read
    await new Promise((res) => setTimeout(res, 200));
    const gone = await s.call('GET', '/v1/subnets', withToken(r.body.token));
    expect(gone.status).toBe(401);
    expect(gone.body.error.message).toMatch(/expired/);
    // The only other admin is now the last live one.
    const last = await s.call('DELETE', `/v1/tokens/${s.tokenIds.admin}`);
    expect(last.body.error.code).toBe('VNP_ERR_LAST_ADMIN');
    const bad = await s.call('POST', '/v1/tokens', { body: { role: 'viewer', ttl: '3 weeks' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('ttl');
  });

  it('rotation: a new secret works at once, the old one until its grace ends', async () => {
    const v = await s.call('POST', '/v1/tokens', { body: { role: 'viewer' } });
    expect((await s.call('GET', '/v1/subnets', withToken(v.body.token))).status).toBe(200);
    const r = await s.call('POST', `/v1/tokens/${v.body.id}/rotate`, { body: { grace: '10m' } });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ role: 'viewer', replaces: v.body.id });
    expect(r.body.oldExpiresAt).toBe(new Date(clock + 600_000).toISOString());
    expect((await s.call('GET', '/v1/subnets', withToken(r.body.token))).status).toBe(200);
    expect((await s.call('GET', '/v1/subnets', withToken(v.body.token))).status).toBe(200);
    clock += 600_001;
    expect((await s.call('GET', '/v1/subnets', withToken(v.body.token))).status).toBe(401);
    expect((await s.call('GET', '/v1/subnets', withToken(r.body.token))).status).toBe(200);
    // An expired token cannot be rotated again; an unknown one is 404.
    const again = await s.call('POST', `/v1/tokens/${v.body.id}/rotate`, { body: {} });
    expect(again.body.error.code).toBe('VNP_ERR_CONFLICT');
    expect((await s.call('POST', '/v1/tokens/00ff/rotate', { body: {} })).status).toBe(404);
    const audit = await s.call('GET', '/v1/audit?limit=20');
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toContainEqual(
      expect.stringMatching(
        new RegExp(`^token.rotate replaces=${v.body.id} grace=10m id=${r.body.id}`),
      ),
    );
  });

  it('rotating with grace 0s stops the old secret at once, even cached', async () => {
    const v = await s.call('POST', '/v1/tokens', { body: { role: 'operator' } });
    expect((await s.call('GET', '/v1/subnets', withToken(v.body.token))).status).toBe(200);
    const r = await s.call('POST', `/v1/tokens/${v.body.id}/rotate`, { body: { grace: '0s' } });
    expect(r.status).toBe(201);
    expect((await s.call('GET', '/v1/subnets', withToken(v.body.token))).status).toBe(401);
  });

  it('lists tokens with created, expires and last use; last use survives a restart', async () => {
    const v = await s.call('POST', '/v1/tokens', { body: { role: 'viewer', ttl: '30d' } });
    clock += 1000;
    await s.call('GET', '/v1/subnets', withToken(v.body.token));
    const listed = (await s.call('GET', '/v1/tokens')).body.items.find(
      (t: { id: string }) => t.id === v.body.id,
    );
    expect(listed).toMatchObject({
      role: 'viewer',
      expiresAt: v.body.expiresAt,
      lastUsedAt: new Date(clock).toISOString(),
    });
    expect(listed.hash).toBeUndefined();
    s = await s.restart();
    const after = (await s.call('GET', '/v1/tokens')).body.items.find(
      (t: { id: string }) => t.id === v.body.id,
    );
    expect(after.lastUsedAt).toBe(new Date(clock).toISOString());
  });

  it('offline recovery: vnp token create --role admin straight into the store, audited', async () => {
    const shared = s.settings.databaseUrl !== undefined;
    const where = shared
      ? ['--database-url', s.settings.databaseUrl!]
      : ['--data-dir', s.settings.dataDir];
    let made: { code: number; out: string; err: string } | undefined;
    const recover = async () => {
      made = await vnpInProcess(['token', 'create', '--role', 'admin', ...where, '-o', 'json']);
    };
    // PostgreSQL: next to the running manager. The embedded store: the manager is down
    // (it holds the directory's lock; the command says so when it is not).
    if (shared) await recover();
    else {
      const locked = await vnpInProcess(['token', 'create', '--role', 'admin', ...where]);
      expect(locked.code).not.toBe(0);
      expect(locked.err).toMatch(/in use|lock/i);
      s = await s.restart(recover);
    }
    expect(made!.code, made!.err).toBe(0);
    const created = JSON.parse(made!.out) as { id: string; token: string; role: string };
    expect(created.role).toBe('admin');
    const ok = await s.call('GET', '/v1/tokens', withToken(created.token));
    expect(ok.status).toBe(200);
    await expect
      .poll(async () => (await s.call('GET', '/v1/audit?limit=5')).body.items[0])
      .toMatchObject({
        actor: expect.stringMatching(/^offline:/),
        action: `token.create id=${created.id} role=admin`,
      });
  });
}
