/**
 * `vnp tag … --wait` end to end: a real `vnp server`, a protocol client following the
 * record's host, and the CLI printing how long the PEPs took.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followHost, type HostFollower } from '../../src/agent/protocol/follow-host.js';
import { startManager, type Manager } from '../cli/harness.js';

let m: Manager;
let follower: HostFollower | undefined;

beforeAll(async () => {
  m = await startManager();
}, 120_000);
afterAll(async () => {
  await follower?.stop();
  await m?.stop();
});

describe('vnp tag --wait', () => {
  it('returns once the PEPs concerned acknowledged, and says how long it took', async () => {
    const docs = [
      'kind: Subnet\nname: lan\ncidr: 10.9.0.0/24',
      'kind: Instance\nname: vm1\nhost: h1',
      'kind: Interface\nname: web1\nsubnet: lan\nips: [10.9.0.5]\ntags: {app: web}\ninstance: vm1',
    ].join('\n---\n');
    const applied = await m.vnp(['apply', '-f', '-'], { input: docs });
    expect(applied.code, applied.stderr).toBe(0);
    const tok = await m.vnp(['token', 'create', '--role', 'agent', '--host', 'h1', '-o', 'json']);
    expect(tok.code, tok.stderr).toBe(0);
    const token = (JSON.parse(tok.stdout) as { token: string }).token;
    follower = followHost({ servers: [m.url], host: 'h1', token, underlayIp: '192.0.2.9' });
    await follower.ready;
    const r = await m.vnp(['tag', 'web1', 'app=api', '--wait', '--timeout', '5s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web1 tagged app=api .*enforced by 1 PEP after \d+ ms/);
    expect(follower.state!.locals[0]!.identity).toBeGreaterThan(255);
  }, 60_000);
});
