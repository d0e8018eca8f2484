import { stat, readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/config/settings.js';
import { runServer } from '../../src/server/run-server.js';
import { MODEL } from './support/fixtures.js';
import { startTestServer } from './support/test-server.js';

describe('restart', () => {
  it('keeps resources, revision, audit and tokens', async () => {
    const first = await startTestServer();
    const applied = await first.call('POST', '/v1/apply', { body: { documents: MODEL } });
    expect(applied.status).toBe(200);
    await first.call('PATCH', '/v1/interfaces/web1/tags', {
      as: 'operator',
      body: { set: { kept: true } },
    });
    const rev = first.manager.revision;
    const check = (
      await first.call('POST', '/v1/check', {
        body: { src: 'web1', dst: 'db1', protocol: 'tcp', port: 5432 },
      })
    ).body;

    const second = await first.restart();
    try {
      expect(second.manager.revision).toBe(rev);
      const web = await second.call('GET', '/v1/interfaces/web1', { as: 'viewer' });
      expect(web.status).toBe(200);
      expect(web.body.tags.kept).toBe(true);
      const again = (
        await second.call('POST', '/v1/check', {
          body: { src: 'web1', dst: 'db1', protocol: 'tcp', port: 5432 },
        })
      ).body;
      expect(again.verdict).toBe(check.verdict);
      expect((await second.call('GET', '/v1/audit?limit=1')).body.items[0].revision).toBe(rev);
      const w = await second.call('PATCH', '/v1/interfaces/web1/tags', {
        as: 'operator',
        body: { set: { after: 1 } },
      });
      expect(w.body.revision).toBe(rev + 1);
    } finally {
      await second.close();
    }
  });
});

describe('runServer', () => {
  it('creates the admin token once (0600 in a 0700 dir), listens, and stops', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vnp-run-'));
    const dataDir = join(root, 'data');
    const printed: string[] = [];
    const settings = {
      ...parseSettings({
        VNP_DATA_DIR: dataDir,
        VNP_LISTEN: '127.0.0.1:0',
        VNP_LOG_LEVEL: 'silent',
      }),
    };
    const server = await runServer(settings, {
      handleSignals: false,
      print: (l) => printed.push(l),
    });
    try {
      const file = join(dataDir, 'admin.token');
      const token = (await readFile(file, 'utf8')).trim();
      expect(token).toMatch(/^vnp_[0-9a-f]+_/);
      expect(printed).toContain(token);
      // The web UI's sign-in address carries the token in the fragment (docs/web.md).
      expect(printed).toContain(`vnp: web UI: ${server.url}/#token=${token}`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      const res = await fetch(`${server.url}/v1/subnets`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect((await fetch(`${server.url}/v1/subnets`)).status).toBe(401);
    } finally {
      await server.stop();
    }
    const again = await runServer(settings, {
      handleSignals: false,
      print: (l) => printed.push(l),
    });
    try {
      // The app is built while the store opens: an open that fails (the directory is
      // in use) still fails the start with its own error, and the running one serves on.
      await expect(
        runServer(
          { ...settings, listen: { host: '127.0.0.1', port: 0 } },
          { handleSignals: false },
        ),
      ).rejects.toMatchObject({ code: 'VNP_ERR_UNAVAILABLE' });
      expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
      expect(printed.filter((l) => l.startsWith('vnp_'))).toHaveLength(1);
      // Later starts print the sign-in address again while the data dir holds admin.token.
      expect(
        printed.filter((l) => l.startsWith('vnp: web UI: ') && l.includes('#token=vnp_')),
      ).toHaveLength(2);
    } finally {
      await again.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
