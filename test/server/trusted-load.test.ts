/**
 * A restart loads the model it validated before without validating it again, and only
 * then (docs/adr/0059-trusted-model-load.md): the embedded store keeps the manager's
 * validation stamp with its model cache, and the manager trusts exactly its own stamp.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_VALIDATION } from '../../src/engine/index.js';
import type { Document } from '../../src/model/types.js';
import { Manager } from '../../src/server/manager.js';
import { openStore, pgliteDir } from '../../src/store/open-store.js';
import { MODEL_CACHE_FILE } from '../../src/store/pglite/model-cache.js';

let root: string;
/** A data directory whose manager stopped cleanly: its cache carries the stamp. */
let stamped: string;

const DOCS: Document[] = [
  { kind: 'Subnet', name: 'lan', cidr: '10.40.0.0/16' },
  { kind: 'Interface', name: 'web-1', subnet: 'lan', ips: ['10.40.0.1'], tags: { app: 'web' } },
];

/** Start a manager on `dataDir`, run `fn`, stop manager and store. */
async function withManager(dataDir: string, fn: (m: Manager) => void = () => {}): Promise<void> {
  const store = await openStore({ dataDir });
  const manager = new Manager({ store });
  try {
    await manager.start();
    fn(manager);
  } finally {
    await manager.close();
    await store.close();
  }
}

/** The cache's key line and documents, edited by `edit`. */
async function editCache(dataDir: string, edit: (head: string, body: string) => string) {
  const file = join(pgliteDir(dataDir), MODEL_CACHE_FILE);
  const text = await readFile(file, 'utf8');
  const nl = text.indexOf('\n');
  await writeFile(file, edit(text.slice(0, nl), text.slice(nl + 1)));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vnp-trusted-load-'));
  stamped = join(root, 'stamped');
  const store = await openStore({ dataDir: stamped });
  await store.commit({
    baseRevision: 0,
    actor: 'test',
    action: 'create',
    puts: DOCS,
    deletes: [],
    at: '2026-01-01T00:00:00.000Z',
  });
  await store.close();
  // The first start validates what the query answered; its stop stamps the cache.
  await withManager(stamped);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('trusted model load', () => {
  it('stamps the cache at a clean stop with the validation the model passed', async () => {
    const head = (await readFile(join(pgliteDir(stamped), MODEL_CACHE_FILE), 'utf8')).split(
      '\n',
    )[0];
    expect(JSON.parse(head!)).toMatchObject({ revision: 1, validatedBy: MODEL_VALIDATION });
    await withManager(stamped, (m) => expect(m.engine.get('Interface', 'web-1')).toBeDefined());
  });

  // A reference to a missing subnet is what validation refuses: whether the start
  // refuses it shows whether validation ran.
  const breakReference = (body: string) => body.replace('"subnet":"lan"', '"subnet":"nosuch"');

  it('does not validate again a model loaded under its own stamp', async () => {
    const dir = join(root, 'own');
    await cp(stamped, dir, { recursive: true });
    await editCache(dir, (head, body) => `${head}\n${breakReference(body)}`);
    await withManager(dir, (m) =>
      expect(m.engine.get('Interface', 'web-1')).toMatchObject({ subnet: 'nosuch' }),
    );
  });

  it('validates a model whose stamp is another, or missing', async () => {
    for (const stamp of ['engine-validation/0', undefined]) {
      const dir = join(root, `other-${stamp ?? 'none'}`);
      await cp(stamped, dir, { recursive: true });
      await editCache(dir, (head, body) => {
        const key = { ...(JSON.parse(head) as object), validatedBy: stamp };
        return `${JSON.stringify(key)}\n${breakReference(body)}`;
      });
      await expect(withManager(dir)).rejects.toMatchObject({ code: 'VNP_ERR_REFERENCE' });
    }
  });
});
