/**
 * One process per PGlite data directory: PGlite runs PostgreSQL in
 * single-user mode and takes no lock of its own, so two managers on one
 * directory would corrupt it. A lock file holding the owner's pid guards it;
 * a lock left by a dead process (crash, SIGKILL) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VnpError } from '../../model/errors.js';

export const LOCK_FILE = 'vnp-store.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but is not ours: still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    await fh.writeFile(`${process.pid}\n`);
    await fh.sync();
    await fh.close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Take the directory's lock; throws VNP_ERR_UNAVAILABLE while a live process holds it.
 * Returns the release function.
 *
 * @example
 *   const release = await lockDataDir('/var/lib/vnp/pg'); … await release();
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path)) return () => rm(path, { force: true });
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && alive(owner)) {
      throw new VnpError(
        'VNP_ERR_UNAVAILABLE',
        `data directory ${dir} is in use by process ${owner}`,
        {
          field: 'dataDir',
          pid: owner,
        },
      );
    }
    // Stale (or half-written) lock: its owner is gone.
    await rm(path, { force: true });
  }
  throw new VnpError('VNP_ERR_UNAVAILABLE', `could not lock data directory ${dir}`, {
    field: 'dataDir',
  });
}
