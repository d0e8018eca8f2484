/**
 * The manager the agent-protocol tests talk to: a real server (PGlite) listening on a
 * port, holding the shared two-record model (web on vm1, db on vm2), and an agent token
 * for host-b. Followers started through `follow` are tracked so a test file can stop
 * them after each test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { followHost, type HostFollower } from '../../../src/agent/protocol/follow-host.js';
import { createToken } from '../../../src/server/tokens.js';
import { startAttachedModelServer, type TestServer } from '../../server/support/test-server.js';

/** Options of followHost the tests vary. */
export type FollowExtra = Partial<Parameters<typeof followHost>[0]>;

export interface FeedServer {
  s: TestServer;
  /** http://127.0.0.1:PORT */
  url: string;
  /** An agent token bound to host-b. */
  tokenB: string;
  /** followHost against this server with short backoffs; tracked for stopFollowers. */
  follow(host: string, token: string, extra?: FollowExtra): HostFollower;
  stopFollowers(): Promise<void>;
}

/**
 * Starts the server and applies the model (last document of each kind and name wins).
 *
 * @example beforeAll(async () => ({ s, url, tokenB } = env = await startFeedServer()), 60_000)
 */
export async function startFeedServer(): Promise<FeedServer> {
  const { s, url } = await startAttachedModelServer();
  const tokenB = (await createToken(s.manager, { role: 'agent', host: 'host-b' }, 'system:test'))
    .token;
  const followers: HostFollower[] = [];
  return {
    s,
    url,
    tokenB,
    follow(host, token, extra = {}) {
      const f = followHost({
        servers: [url],
        host,
        token,
        minBackoffMs: 20,
        maxBackoffMs: 100,
        ...extra,
      });
      followers.push(f);
      return f;
    },
    async stopFollowers() {
      await Promise.all(followers.splice(0).map((f) => f.stop()));
    },
  };
}

/**
 * One feed server for a test file: started before its tests (handed to `ready`), its
 * followers stopped after each test, closed after the last.
 *
 * @example useFeedServer((started) => ({ s, url, tokenB } = env = started))
 */
export function useFeedServer(ready: (env: FeedServer) => void): void {
  let env: FeedServer | undefined;
  beforeAll(async () => {
    env = await startFeedServer();
    ready(env);
  }, 60_000);
  afterEach(() => env?.stopFollowers());
  afterAll(async () => {
    await env?.s.close();
  });
}
