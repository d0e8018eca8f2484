/**
 * Child process for the crash tests: commits an endless stream of writes and
 * prints `<revision> <name>` on stdout after each commit resolves — every other
 * write is an event committed with its change (`Store.commitEvent`), printed as
 * `<revision> <name> event` (pipes are
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
    const at = new Date().toISOString();
    const batch = {
      baseRevision: revision,
      actor: 'crash-writer',
      puts: [{ kind: 'Instance' as const, name, host: `host-${i}` }],
      deletes: [],
    };
    if (i % 2 === 1) {
      const { record } = await store.commitEvent({
        event: { at, type: 'crash', target: name, actor: 'crash-writer', reactions: [] },
        expiries: [],
        change: { ...batch, action: (id) => `event crash id=${id}` },
      });
      revision = record!.revision;
      process.stdout.write(`${revision} ${name} event\n`);
      continue;
    }
    const record = await store.commit({ ...batch, action: 'apply', at });
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
