import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostState } from '../../src/model/host-state.js';
import { applyHostDelta, type HostMessage } from '../../src/model/host-delta.js';
import { DB, MODEL, WEB } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let url: string;
beforeAll(async () => {
  s = await startTestServer();
  url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  const r = await s.call('POST', '/v1/apply', {
    body: {
      documents: [...MODEL, { ...WEB, instance: 'vm1' }, { ...DB, instance: 'vm2' }].filter(
        (d, i, all) => all.findLastIndex((x) => x.kind === d.kind && x.name === d.name) === i,
      ),
    },
  });
  expect(r.status, r.text).toBe(200);
});
afterAll(async () => {
  await s?.close();
});

const auth = (role: keyof TestServer['tokens']) => ({ authorization: `Bearer ${s.tokens[role]}` });

/** Reads a watch (snapshot, deltas folded into states) until `until` holds. */
async function watchUntil(
  path: string,
  until: (states: HostState[]) => boolean,
  act?: () => Promise<void>,
): Promise<HostState[]> {
  const ac = new AbortController();
  const res = await fetch(url + path, { headers: auth('agent'), signal: ac.signal });
  expect(res.status).toBe(200);
  const states: HostState[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let acted = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as HostMessage;
        if (msg.type === 'snapshot') states.push(msg.state);
        else if (msg.type === 'delta') states.push(applyHostDelta(states[states.length - 1]!, msg));
      }
      if (until(states)) return states;
      if (!acted && states.length > 0 && act) {
        acted = true;
        await act();
      }
    }
  } finally {
    ac.abort();
  }
  return states;
}

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
    const states = await watchUntil(
      '/v1/hosts/host-a/watch?underlay=192.0.2.1',
      (xs) => xs.some((x) => x.ipcache.some((e) => e.ip === '10.0.0.30')),
      async () => {
        const r = await s.call('POST', '/v1/interfaces', {
          body: { name: 'cache1', subnet: 'lan', ips: ['10.0.0.30'], tags: { app: 'cache' } },
        });
        expect(r.status, r.text).toBeLessThan(300);
      },
    );
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
