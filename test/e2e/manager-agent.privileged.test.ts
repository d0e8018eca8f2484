/**
 * The whole path on a real kernel: a real manager (PGlite store) on 127.0.0.1,
 * documents applied through the REST API, one `runAgent` per host (each driving
 * the real Agent inside its host namespace), real traffic between instance
 * namespaces. A tag change through the API reaches the kernels; the agents keep
 * enforcing when the manager goes away (fail-static).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAgent, type AgentHandle } from '../../src/agent/run-agent.js';
import { startTestServer, type TestServer } from '../server/support/test-server.js';
import { hostAgent } from './support/agents.js';
import { modelDocs, RECORDS } from './support/engine-model.js';
import { buildTopology, type Topology } from './support/topology.js';
import { describePrivileged } from './support/describe-privileged.js';
import { tcpConnects, tcpServer, type Proc } from './support/traffic.js';

const until = async (what: string, pred: () => boolean, ms = 10_000): Promise<number> => {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
};

describePrivileged('manager → agents → kernel', {}, () => {
  let topo: Topology;
  let server: TestServer;
  let serverUp = true;
  let url: string;
  const handles = new Map<string, AgentHandle>();
  const procs: Proc[] = [];
  const ns = (r: string) => topo.instanceNs(r);
  const ip = (r: string) => RECORDS[r]!.ip;

  beforeAll(async () => {
    topo = buildTopology(['h1', 'h2']);
    server = await startTestServer();
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const applied = await server.call('POST', '/v1/apply', {
      body: { documents: modelDocs(topo.instanceNs) },
    });
    expect(applied.status, applied.text).toBe(200);
    for (const h of topo.hosts) {
      const tok = await server.call('POST', '/v1/tokens', {
        body: { role: 'agent', host: h.name },
      });
      expect(tok.status, tok.text).toBe(201);
      const agent = hostAgent(h);
      handles.set(
        h.name,
        runAgent({
          servers: [url],
          host: h.name,
          token: tok.body.token as string,
          underlayIp: h.underlayIp,
          agent,
          minBackoffMs: 50,
          maxBackoffMs: 200,
        }),
      );
    }
    await Promise.all([...handles.values()].map((h) => h.ready));
    // Each host learns the other's underlay address when that agent connects.
    await until('underlay addresses on both hosts', () =>
      [...handles.values()].every((h) => h.agent.state?.remotes.every((r) => r.underlay) ?? false),
    );
    for (const [name, r] of Object.entries(RECORDS))
      procs.push(await tcpServer(ns(name), r.ip, [8080, 5432]));
  }, 90_000);

  afterAll(async () => {
    for (const p of procs) p.stop();
    await Promise.all([...handles.values()].map((h) => h.stop()));
    if (serverUp) await server?.close();
    topo?.destroy();
  });

  it('enforces the applied model', async () => {
    const [webApp, opsApp, appDb] = await Promise.all([
      tcpConnects(ns('web'), ip('app'), 8080),
      tcpConnects(ns('ops'), ip('app'), 8080),
      tcpConnects(ns('app'), ip('db'), 5432),
    ]);
    expect({ webApp, opsApp, appDb }).toEqual({ webApp: true, opsApp: false, appDb: true });
  });

  it('a tag change through the API reaches both kernels and is acknowledged', async () => {
    const r = await server.call('PATCH', '/v1/interfaces/ops/tags', {
      body: { set: { app: 'shop', tier: 'web' } },
    });
    expect(r.status, r.text).toBe(200);
    const revision = server.manager.revision;
    const ms = await until('both agents at the new revision', () =>
      [...handles.values()].every((h) => (h.agent.state?.revision ?? 0) >= revision),
    );
    console.log(`tag change → both kernels updated in ${ms.toFixed(0)} ms`);
    expect(await tcpConnects(ns('ops'), ip('app'), 8080)).toBe(true);
    const peps = await server.call('GET', '/v1/peps', { as: 'viewer' });
    expect(peps.status, peps.text).toBe(200);
    expect(JSON.stringify(peps.body)).toContain(String(revision));
  });

  it('keeps enforcing the last state when the manager is gone', async () => {
    await server.close();
    serverUp = false;
    await new Promise((r) => setTimeout(r, 300));
    const [opsApp, webDb, dbWeb] = await Promise.all([
      tcpConnects(ns('ops'), ip('app'), 8080),
      tcpConnects(ns('web'), ip('db'), 5432),
      tcpConnects(ns('db'), ip('web'), 8080),
    ]);
    expect({ opsApp, webDb, dbWeb }).toEqual({ opsApp: true, webDb: false, dbWeb: false });
    expect([...handles.values()].every((h) => h.connectedTo === undefined)).toBe(true);
  });
});
