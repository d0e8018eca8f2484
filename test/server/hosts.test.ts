import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostState } from '../../src/model/host-state.js';
import { followHost } from '../../src/agent/protocol/follow-host.js';
import { startAttachedModelServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let url: string;
beforeAll(async () => {
  ({ s, url } = await startAttachedModelServer());
});
afterAll(async () => {
  await s?.close();
});

const auth = (role: keyof TestServer['tokens']) => ({ authorization: `Bearer ${s.tokens[role]}` });

describe('host state for PEPs', () => {
  it('gives a host its local records, remotes with underlay, ipcache and resolved sides', async () => {
    // host-b's agent reports its underlay through its own (viewer-readable) state call.
    const b = await fetch(`${url}/v1/hosts/host-a/state?underlay=192.0.2.1`, {
      headers: auth('agent'),
    });
    expect(b.status).toBe(200);
    const state = (await b.json()) as HostState;
    expect(state.host).toBe('host-a');
    expect(state.locals.map((l) => l.name)).toEqual(['web1']);
    expect(state.remotes.map((r) => r.name)).toEqual(['db1']);
    expect(state.ipcache.map((e) => e.ip).sort()).toEqual(['10.0.0.10', '10.0.0.20']);
    expect(state.sides.map((x) => x.direction).sort()).toEqual(['egress', 'ingress']);
    expect(state.revision).toBeGreaterThan(0);
  });

  it('binds agent tokens to their host', async () => {
    const r = await fetch(`${url}/v1/hosts/host-b/state`, { headers: auth('agent') });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('VNP_ERR_FORBIDDEN');
    const v = await fetch(`${url}/v1/hosts/host-b/state`, { headers: auth('viewer') });
    expect(v.status).toBe(200);
    const bad = await fetch(`${url}/v1/hosts/Bad_Host/state`, { headers: auth('viewer') });
    expect(bad.status).toBe(400);
  });

  it('streams a new state when a change concerns the host', async () => {
    // The agent's own protocol client, over NDJSON (the stream this suite serves).
    const states: HostState[] = [];
    const follower = followHost({
      servers: [url],
      host: 'host-a',
      token: s.tokens.agent,
      underlayIp: '192.0.2.1',
      transport: 'ndjson',
      apply: (state) => void states.push(state),
    });
    try {
      await follower.ready;
      const r = await s.call('POST', '/v1/interfaces', {
        body: { name: 'cache1', subnet: 'lan', ips: ['10.0.0.30'], tags: { app: 'cache' } },
      });
      expect(r.status, r.text).toBeLessThan(300);
      await expect
        .poll(() => states.some((x) => x.ipcache.some((e) => e.ip === '10.0.0.30')))
        .toBe(true);
    } finally {
      await follower.stop();
    }
    expect(states.length).toBeGreaterThanOrEqual(2);
    expect(states[states.length - 1]!.revision).toBeGreaterThan(states[0]!.revision);
  });

  it('records acknowledgements in /v1/peps', async () => {
    const rev = (await (
      await fetch(`${url}/v1/hosts/host-a/state`, { headers: auth('agent') })
    ).json()) as HostState;
    const ack = await fetch(`${url}/v1/hosts/host-a/ack`, {
      method: 'POST',
      headers: { ...auth('agent'), 'content-type': 'application/json' },
      body: JSON.stringify({ revision: rev.revision }),
    });
    expect(ack.status).toBe(200);
    const peps = await s.call('GET', '/v1/peps', { as: 'viewer' });
    const a = (
      peps.body.items as { host: string; appliedRevision: number; underlay?: string }[]
    ).find((p) => p.host === 'host-a')!;
    expect(a.appliedRevision).toBe(rev.revision);
    expect(a.underlay).toBe('192.0.2.1');
  });

  it('records the kind a PEP reports, and refuses an unknown one', async () => {
    const state = await fetch(`${url}/v1/hosts/host-a/state?kind=ovs`, { headers: auth('agent') });
    expect(state.status).toBe(200);
    const peps = await s.call('GET', '/v1/peps', { as: 'viewer' });
    const a = (peps.body.items as { host: string; kind?: string }[]).find(
      (p) => p.host === 'host-a',
    )!;
    expect(a.kind).toBe('ovs');
    const bad = await fetch(`${url}/v1/hosts/host-a/state?kind=vpp`, { headers: auth('agent') });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('kind');
  });
});
