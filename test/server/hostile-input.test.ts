/** Hostile input on the embedded store (PGlite); the PostgreSQL run is hostile-input.integration.test.ts. */
import { afterAll, beforeAll } from 'vitest';
import { describeHostileInput } from './support/hostile-input.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

describeHostileInput(() => s);
