/**
 * Child process for the crash tests: commits an endless stream of writes and
 * prints `<revision> <name>` on stdout after each commit resolves (pipes are
 * synchronous on Linux, so a printed line is an acknowledged write). The
 * parent SIGKILLs it mid-stream and checks every acknowledged write survived.
 *
 * Usage: node --import tsx crash-writer.ts pglite <dataDir> | postgres <url>
 */
import { openPgliteStore } from '../pglite/pglite-store.js';
import { openPostgresStore } from '../postgres/postgres-store.js';
import type { Store } from '../types.js';

/** Open the store named on the command line. */
async function openFromArgs(args: string[]): Promise<Store> {
  const [backend, target] = args;
  if (!target) throw new Error('usage: crash-writer.ts pglite <dataDir> | postgres <url>');
  if (backend === 'pglite') return openPgliteStore({ dataDir: target });
  if (backend === 'postgres') return openPostgresStore({ url: target });
  throw new Error(`unknown backend ${String(backend)}`);
}

/** Commit forever, one Instance per commit, acknowledging each on stdout. */
async function writeForever(store: Store): Promise<never> {
  let revision = await store.revision();
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const name = `crash-${revision + 1}`;
    const record = await store.commit({
      baseRevision: revision,
      actor: 'crash-writer',
      action: 'apply',
      at: new Date().toISOString(),
      puts: [{ kind: 'Instance', name, host: `host-${i}` }],
      deletes: [],
    });
    revision = record.revision;
    process.stdout.write(`${revision} ${name}\n`);
  }
}

openFromArgs(process.argv.slice(2))
  .then(writeForever)
  .catch((e: unknown) => {
    process.stderr.write(`crash-writer: ${String(e)}\n`);
    process.exit(1);
  });
