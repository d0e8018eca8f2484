import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VnpError } from '../../model/errors.js';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.js';

describe('lockDataDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnp-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the directory until released', async () => {
    const release = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    const e = await lockDataDir(dir).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(VnpError);
    expect((e as VnpError).code).toBe('VNP_ERR_UNAVAILABLE');
    await release();
    await expect(stat(join(dir, LOCK_FILE))).rejects.toThrow();
    await (
      await lockDataDir(dir)
    )();
  });

  it('takes over a lock left by a dead process', async () => {
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    await writeFile(join(dir, LOCK_FILE), `${dead}\n`);
    const release = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await release();
  });

  it('takes over a garbled lock file', async () => {
    await writeFile(join(dir, LOCK_FILE), '');
    await (
      await lockDataDir(dir)
    )();
  });
});
