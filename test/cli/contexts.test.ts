/**
 * Contexts as kubectl's (issue 16 §5): `vnp config set-context|use-context|get-contexts|
 * current-context|delete-context`, `--context`, the file's place ($XDG_CONFIG_HOME) and
 * mode (0600), and the documented precedence — flags > --context > environment >
 * current-context > the data dir's admin token — proven by which token reaches a real
 * manager (`auth can-i create tokens`: yes for admin, no for viewer).
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type InProcessCli } from './in-process.js';

let cli: InProcessCli;
let home: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  cli = await startCli();
  home = mkdtempSync(join(tmpdir(), 'vnp-contexts-'));
  writeFileSync(join(home, 'viewer.token'), cli.server.tokens.viewer + '\n');
  writeFileSync(join(home, 'admin.token'), cli.server.tokens.admin + '\n');
  env = { VNP_SERVER: undefined, VNP_TOKEN: undefined, XDG_CONFIG_HOME: join(home, 'xdg') };
}, 60_000);
afterAll(async () => cli?.close());

const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
  cli.vnp(args, { env: { ...env, ...extra }, cwd: home });

async function canCreateTokens(args: string[] = [], extra = {}): Promise<string> {
  const r = await run([...args, 'auth', 'can-i', 'create', 'tokens'], extra);
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

describe('vnp config', () => {
  it('set-context writes $XDG_CONFIG_HOME/vnp/config.yaml, 0600 in a 0700 directory', async () => {
    const r = await run([
      '--server',
      cli.url,
      'config',
      'set-context',
      'view',
      '--token-file',
      'viewer.token',
    ]);
    expect(r.stdout, r.stderr).toMatch(/context "view" created \(current\)/);
    const file = join(home, 'xdg/vnp/config.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'xdg/vnp')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toContain(`token-file: ${join(home, 'viewer.token')}`);
    const r2 = await run([
      '--server',
      cli.url,
      'config',
      'set-context',
      'adm',
      '--token-file',
      'admin.token',
    ]);
    expect(r2.stdout).toMatch(/context "adm" created in/);
    expect((await run(['config', 'current-context'])).stdout).toBe('view\n');
    const table = (await run(['config', 'get-contexts'])).stdout;
    expect(table).toMatch(/^CURRENT\s+NAME\s+SERVER\s+TOKEN-FILE\s+CA-FILE$/m);
    expect(table).toMatch(/^\*\s+view\s+http:\/\/127\.0\.0\.1:\d+/m);
  });

  it('precedence: flags > --context > environment > current-context', async () => {
    expect(await canCreateTokens()).toBe('no'); // current-context: the viewer
    expect(await canCreateTokens([], { VNP_TOKEN: cli.server.tokens.admin })).toBe('yes'); // env beats current
    expect(await canCreateTokens(['--context', 'adm'])).toBe('yes');
    expect(
      await canCreateTokens(['--context', 'view'], { VNP_TOKEN: cli.server.tokens.admin }),
    ).toBe('no'); // --context beats env
    expect(await canCreateTokens(['--context', 'view', '--token', cli.server.tokens.admin])).toBe(
      'yes',
    ); // flags beat all
    const bad = await run(['--server', 'http://127.0.0.1:1', 'get', 'iface']);
    expect(bad.stderr).toMatch(/cannot reach the manager at http:\/\/127\.0\.0\.1:1/);
  });

  it('view: the file merged with this run, the token redacted unless --raw', async () => {
    const view = await run(['config', 'view']);
    expect(view.stderr).toBe('');
    expect(view.stdout).toContain('current-context: view');
    expect(view.stdout).toMatch(/- name: adm\n/);
    expect(view.stdout).toMatch(/in-use:\n\s+context: view\n\s+server: http:\/\/127\.0\.0\.1:\d+/);
    expect(view.stdout).toContain('token: REDACTED');
    expect(view.stdout).toContain(
      `token-from: context view (token-file ${join(home, 'viewer.token')})`,
    );
    expect(view.stdout).not.toContain(cli.server.tokens.viewer);
    const json = JSON.parse(
      (await run(['--context', 'adm', 'config', 'view', '--minify', '-o', 'json'])).stdout,
    ) as { contexts: { name: string }[]; 'in-use': Record<string, string> };
    expect(json.contexts.map((c) => c.name)).toEqual(['adm']);
    expect(json['in-use']).toMatchObject({ context: 'adm', token: 'REDACTED' });
    const env = JSON.parse(
      (await run(['config', 'view', '-o', 'json', '--raw'], { VNP_TOKEN: cli.server.tokens.admin }))
        .stdout,
    ) as { 'in-use': Record<string, string> };
    expect(env['in-use']).toMatchObject({
      token: cli.server.tokens.admin,
      'token-from': 'VNP_TOKEN',
    });
    const flag = await run(['config', 'view', '--token', cli.server.tokens.admin]);
    expect(flag.stdout).toContain('token-from: --token');
    expect(flag.stdout).not.toContain(cli.server.tokens.admin);
    expect((await run(['config', 'view', '-o', 'table'])).stderr).toMatch(
      /--output: config view prints yaml or json/,
    );
  });

  it('use-context switches; unknown contexts and malformed files are named', async () => {
    expect((await run(['config', 'use-context', 'adm'])).stdout).toBe(
      'switched to context "adm"\n',
    );
    expect(await canCreateTokens()).toBe('yes');
    const missing = await run(['config', 'use-context', 'nosuch']);
    expect(missing.stderr).toMatch(
      /VNP_ERR_NOT_FOUND: no context named "nosuch" in .* \(contexts: view, adm\)/,
    );
    expect((await run(['--context', 'nosuch', 'get', 'iface'])).code).toBe(1);
    expect((await run(['config', 'delete-context', 'adm'])).code).toBe(0);
    expect((await run(['config', 'current-context'])).stderr).toMatch(/current-context is not set/);
    const broken = join(home, 'broken.yaml');
    writeFileSync(broken, 'contexts:\n  - name: x\n    token: abc\n');
    const r = await run(['get', 'iface', '--context', 'x'], { VNP_CONFIG: broken });
    expect(r.stderr).toMatch(
      /VNP_ERR_VALIDATION: .*broken\.yaml: contexts\[0\]: unknown key "token" \(put the token in a file/,
    );
    writeFileSync(broken, 'contexts: [\n');
    expect((await run(['config', 'get-contexts'], { VNP_CONFIG: broken })).stderr).toMatch(
      /broken\.yaml:\d+: /,
    );
  });
});
