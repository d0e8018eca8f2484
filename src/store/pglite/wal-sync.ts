/**
 * Makes a PGlite commit survive an OS crash, not just a process crash.
 *
 * PGlite's Node filesystem writes straight through to the data directory with
 * write(2), so a COMMIT that returned is in the kernel's page cache and
 * survives SIGKILL of the manager. But PGlite runs PostgreSQL with fsync off
 * (`-F`) and its Emscripten file layer has no fsync, so nothing forces the WAL
 * to disk. After each commit we fsync the WAL segment(s) written since the last
 * sync ourselves (and pg_wal when a segment appears), the same guarantee
 * PostgreSQL's synchronous_commit gives for the commit record.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CURRENT_WAL_FILE } from '../sql/queries.js';
import type { SqlClient } from '../sql/sql-client.js';

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function currentSegment(client: SqlClient): Promise<string | undefined> {
  const r = await client.query<{ f: string }>(CURRENT_WAL_FILE);
  return r.rows[0]?.f;
}

/** Flush the WAL after a commit; `close` releases the open segment. */
export interface WalSyncer {
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Fsyncs the WAL up to the current write position. The segment being written
 * stays open between commits: opening and closing it on every commit cost as
 * much as the fsync itself on the event path.
 *
 * @example
 *   const wal = await walSyncer(client, dataDir); await store.commit(…); await wal.sync();
 */
export async function walSyncer(client: SqlClient, dataDir: string): Promise<WalSyncer> {
  const walDir = join(dataDir, 'pg_wal');
  // Start from the segment in use at open, so a first commit that crosses
  // into a new segment also syncs the tail of the old one.
  let lastSegment: string | undefined = await currentSegment(client);
  let current: { name: string; fh: FileHandle } | undefined;
  const handle = async (name: string): Promise<FileHandle> => {
    if (current?.name === name) return current.fh;
    const fh = await open(join(walDir, name), 'r');
    const old = current;
    current = { name, fh };
    await old?.fh.close();
    return fh;
  };
  return {
    async sync() {
      const segment = await currentSegment(client);
      if (!segment) return;
      if (lastSegment !== undefined && lastSegment !== segment) {
        // Segment names are fixed-width hex: lexical order is WAL order.
        const from = lastSegment;
        const names = await readdir(walDir);
        for (const name of names.filter(
          (n) => /^[0-9A-F]{24}$/.test(n) && n >= from && n < segment,
        ))
          await fsyncPath(join(walDir, name));
      }
      await (await handle(segment)).sync();
      if (lastSegment !== segment) await fsyncPath(walDir);
      lastSegment = segment;
    },
    async close() {
      const old = current;
      current = undefined;
      await old?.fh.close();
    },
  };
}
