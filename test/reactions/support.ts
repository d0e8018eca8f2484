/**
 * Helpers for the reactions tests: the quarantine example as documents, and a
 * test server with a clock the test moves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '../server/support/test-server.js';

const EXAMPLE = join(import.meta.dirname, '../../examples/quarantine');

/** Every document of examples/quarantine/*.yaml (Tests included). */
export function quarantineDocuments(): Record<string, unknown>[] {
  return ['model.yaml', 'quarantine.yaml', 'tests.yaml'].flatMap((f) =>
    parseAllDocuments(readFileSync(join(EXAMPLE, f), 'utf8')).map(
      (d) => d.toJS() as Record<string, unknown>,
    ),
  );
}

/** A manual clock. */
export interface Clock {
  now: () => number;
  advance(ms: number): void;
}

export function manualClock(start = Date.parse('2026-01-01T00:00:00Z')): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** A test server with the quarantine example applied. */
export async function quarantineServer(clock: Clock): Promise<TestServer> {
  const s = await startTestServer({ now: clock.now });
  const r = await s.call('POST', '/v1/apply', { body: { documents: quarantineDocuments() } });
  if (r.status !== 200) throw new Error(`apply failed: ${r.text}`);
  return s;
}
