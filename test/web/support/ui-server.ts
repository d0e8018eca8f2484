/**
 * A manager for browser tests: a real one (PGlite, the test tokens), listening on a
 * loopback port, loaded with the three-tier example (docs/demo.md).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '../../server/support/test-server.js';

const EXAMPLE = join(import.meta.dirname, '../../../examples/three-tier');

/** The three-tier example's documents, in file order. */
export function threeTier(): unknown[] {
  return readdirSync(EXAMPLE)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(EXAMPLE, f), 'utf8')).map((d) => d.toJS() as unknown),
    )
    .filter((d) => d !== null);
}

export interface UiServer extends TestServer {
  url: string;
}

export async function startUiServer(documents: unknown[] = threeTier()): Promise<UiServer> {
  const server = await startTestServer();
  const applied = await server.call('POST', '/v1/apply', { body: { documents } });
  if (applied.status !== 200) throw new Error(`apply: ${applied.status} ${applied.text}`);
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(server, { url });
}
