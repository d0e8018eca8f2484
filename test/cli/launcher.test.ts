/**
 * bin/vnp.js, the installed `vnp`: runs the compiled CLI from dist/ and, in a
 * checkout with no build, says so and runs the sources instead of failing.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, run } from './harness.js';
import { LIGHT_COMMANDS } from '../../src/cli/command-table.js';
import { VERSION } from '../../src/cli/version.js';

const env = { PATH: process.env.PATH ?? '' };

describe('bin/vnp.js', { timeout: 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vnp-launcher-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints the version and help', async () => {
    const version = await run(process.execPath, [join(REPO, 'bin/vnp.js'), '--version'], { env });
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await run(process.execPath, [join(REPO, 'bin/vnp.js'), '--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: vnp /);
  });

  // A build (npm ci runs it) gives every light command its own bundle, which main.ts runs.
  const commandBundles = join(REPO, 'dist/bundle/command');
  it.skipIf(!existsSync(commandBundles))('runs a light command from its own bundle', async () => {
    for (const c of LIGHT_COMMANDS)
      expect(existsSync(join(commandBundles, `${c.module}.js`)), c.module).toBe(true);
    const r = await run(process.execPath, [join(REPO, 'bin/vnp.js'), 'get', 'nosuchkind'], { env });
    expect(r.stderr).toMatch(/^error: VNP_ERR_VALIDATION: unknown kind "nosuchkind"/);
    expect(r.code).toBe(1);
    const help = await run(process.execPath, [join(REPO, 'bin/vnp.js'), 'get', '--help'], { env });
    expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: vnp get /) });
  });

  it('without dist/ says how to build and runs the sources', async () => {
    // A checkout with no build: the launcher, the sources and the dependencies.
    mkdirSync(join(tmp, 'bin'));
    copyFileSync(join(REPO, 'bin/vnp.js'), join(tmp, 'bin/vnp.js'));
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(REPO, 'src'), join(tmp, 'src'));
    symlinkSync(join(REPO, 'node_modules'), join(tmp, 'node_modules'));
    const r = await run(process.execPath, [join(tmp, 'bin/vnp.js'), 'get', 'nosuchkind'], {
      env,
      cwd: tmp,
    });
    expect(r.stderr).toContain('no compiled CLI in dist/ (run `npm run build`');
    expect(r.stderr).toContain('error: VNP_ERR_VALIDATION: unknown kind "nosuchkind"');
    expect(r.code).toBe(1);
  });
});
