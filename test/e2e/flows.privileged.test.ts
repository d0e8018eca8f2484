/**
 * Flow records from the real kernel (docs/flows.md): a manager, two hosts' agents
 * collecting conntrack events in their namespaces, real TCP and ICMP connections
 * between instance namespaces. Each allowed connection appears in `/v1/flows` within
 * 2 s, naming the policy and rule `POST /v1/check` names for each side, and a closed
 * TCP connection carries byte counts within 1% of what was sent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeExec } from '../../src/agent/exec.js';
import { runAgent, type AgentHandle } from '../../src/agent/run-agent.js';
import type { FlowSide, StoredFlow } from '../../src/model/flow.js';
import { startTestServer, type TestServer } from '../server/support/test-server.js';
import { hostAgent } from './support/agents.js';
import { describePrivileged } from './support/describe-privileged.js';
import { modelDocs, RECORDS } from './support/engine-model.js';
import { buildTopology, type Topology } from './support/topology.js';
import { pings, tcpConnects } from './support/traffic.js';

const until = async <T>(
  what: string,
  get: () => Promise<T | undefined>,
  ms = 2000,
): Promise<{ value: T; ms: number }> => {
  const t0 = performance.now();
  for (;;) {
    const value = await get();
    if (value !== undefined) return { value, ms: performance.now() - t0 };
    if (performance.now() - t0 > ms)
      throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

// A receiver that reads everything and closes after the sender does (TIME_WAIT on
// the sender's side), and a sender of N bytes.
const SINK_JS = `const net=require('node:net');net.createServer(s=>{s.on('data',()=>{});s.on('end',()=>s.end());s.on('error',()=>{})}).listen(Number(process.argv[2]),process.argv[1],()=>console.log('listening'))`;
const SEND_JS = `const net=require('node:net');const c=net.connect(Number(process.argv[2]),process.argv[1],()=>c.end(Buffer.alloc(Number(process.argv[3]),120)));c.on('data',()=>{});c.on('close',()=>console.log('closed'))`;

describePrivileged('flows from the kernel', {}, () => {
  let topo: Topology;
  let server: TestServer;
  const handles = new Map<string, AgentHandle>();
  const sinks: { kill(): void }[] = [];
  const ns = (r: string) => topo.instanceNs(r);
  const ip = (r: string) => RECORDS[r]!.ip;

  beforeAll(async () => {
    topo = buildTopology(['h1', 'h2']);
    server = await startTestServer();
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const applied = await server.call('POST', '/v1/apply', {
      body: { documents: modelDocs(topo.instanceNs) },
    });
    expect(applied.status, applied.text).toBe(200);
    for (const h of topo.hosts) {
      const tok = await server.call('POST', '/v1/tokens', {
        body: { role: 'agent', host: h.name },
      });
      handles.set(
        h.name,
        runAgent({
          servers: [url],
          host: h.name,
          token: tok.body.token as string,
          underlayIp: h.underlayIp,
          agent: hostAgent(h),
          minBackoffMs: 50,
          maxBackoffMs: 200,
          flows: {
            exec: makeExec(h.netns),
            inNamespace: ['ip', 'netns', 'exec', h.netns],
            flushMs: 50,
          },
        }),
      );
    }
    await Promise.all([...handles.values()].map((h) => h.ready));
    for (const [r, port] of [
      ['app', 8080],
      ['db', 5432],
    ] as const) {
      const srv = spawn(
        'ip',
        ['netns', 'exec', ns(r), 'node', '-e', SINK_JS, ip(r), String(port)],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      sinks.push(srv);
      await new Promise<void>((ready) => srv.stdout.once('data', () => ready()));
    }
    await until(
      'underlay addresses on both hosts',
      async () =>
        [...handles.values()].every((h) => h.agent.state?.remotes.every((r) => r.underlay)) ||
        undefined,
      10_000,
    );
  }, 90_000);

  afterAll(async () => {
    for (const s of sinks) s.kill();
    await Promise.all([...handles.values()].map((h) => h.stop()));
    await server?.close();
    topo?.destroy();
  });

  /** The flows of a connection from `src` to `dst` (record names) stored since `t0`. */
  const flowsOf = async (
    src: string,
    dst: string,
    protocol: string,
    port: number,
    t0: string,
    state = 'new',
  ) => {
    const r = await server.call('GET', `/v1/flows?from=${src}&to=${dst}&since=${t0}&limit=100`, {
      as: 'viewer',
    });
    expect(r.status, r.text).toBe(200);
    return (r.body.items as StoredFlow[]).filter(
      (f) => f.protocol === protocol && f.port === port && f.state === state,
    );
  };

  /** The side as `vnp check` names it. */
  const checked = async (src: string, dst: string, protocol: string, port?: number) => {
    const r = await server.call('POST', '/v1/check', {
      body: { src, dst, protocol, ...(port !== undefined ? { port } : {}) },
    });
    const side = (s: {
      verdict: 'allow' | 'deny';
      logged?: boolean;
      policy?: string;
      rule?: { rule: string };
      default?: { verdict: 'allow' | 'deny' };
    }): FlowSide =>
      s.policy !== undefined
        ? {
            verdict: s.verdict,
            policy: s.policy,
            rule: s.rule!.rule,
            ...(s.logged ? { logged: true } : {}),
          }
        : { verdict: s.verdict, default: s.default!.verdict };
    return {
      verdict: r.body.verdict as string,
      egress: side(r.body.egress),
      ingress: side(r.body.ingress),
    };
  };

  it.each([
    ['web', 'app', 'tcp', 8080],
    ['app', 'db', 'tcp', 5432],
    ['web', 'app', 'icmp', 8],
  ] as const)(
    '%s → %s %s/%i appears within 2 s, each side named as vnp check names it',
    async (src, dst, protocol, port) => {
      const t0 = new Date(Date.now() - 1000).toISOString();
      const ok =
        protocol === 'icmp'
          ? await pings(ns(src), ip(dst))
          : await tcpConnects(ns(src), ip(dst), port);
      expect(ok).toBe(true);
      const sent = performance.now();
      // Different hosts: the source's reports the egress side, the destination's the ingress.
      const { value: flows } = await until(`${src} → ${dst} in /v1/flows`, async () => {
        const f = await flowsOf(src, dst, protocol, port, t0);
        return f.some((x) => x.egress) && f.some((x) => x.ingress) ? f : undefined;
      });
      console.log(
        `${src} → ${dst} ${protocol}/${port}: visible after ${(performance.now() - sent).toFixed(0)} ms`,
      );
      const want = await checked(src, dst, protocol, protocol === 'icmp' ? undefined : port);
      expect(want.verdict).toBe('allow');
      const eg = flows.find((f) => f.egress)!;
      const ing = flows.find((f) => f.ingress)!;
      expect(eg).toMatchObject({
        host: RECORDS[src]!.host,
        verdict: 'allow',
        src: { record: src },
        dst: { record: dst },
      });
      expect(eg.egress).toEqual(want.egress);
      expect(ing).toMatchObject({ host: RECORDS[dst]!.host, verdict: 'allow' });
      expect(ing.ingress).toEqual(want.ingress);
      expect(eg.src.partitions).toEqual(expect.any(Array));
    },
  );

  it('a closed TCP connection carries its byte count, within 1% of what was sent', async () => {
    const bytes = 4_000_000;
    const port = 5432;
    const t0 = new Date(Date.now() - 1000).toISOString();
    const sent = spawnSync(
      'ip',
      ['netns', 'exec', ns('app'), 'node', '-e', SEND_JS, ip('db'), String(port), String(bytes)],
      { timeout: 10_000, encoding: 'utf8' },
    );
    expect(sent.stdout).toContain('closed');
    const { value: closed, ms } = await until(
      'the closed record',
      async () => {
        // Not the short connections of the tests before: the one that carried `bytes`.
        const f = (await flowsOf('app', 'db', 'tcp', port, t0, 'closed')).filter(
          (x) => (x.bytes ?? 0) > bytes / 2,
        );
        return f.some((x) => x.egress) && f.some((x) => x.ingress) ? f : undefined;
      },
      5000,
    );
    console.log(
      `closed record after ${ms.toFixed(0)} ms: ${JSON.stringify(closed.map((f) => [f.host, f.packets, f.bytes]))}`,
    );
    for (const f of closed) {
      expect(f.bytes!).toBeGreaterThanOrEqual(bytes);
      expect((f.bytes! - bytes) / bytes).toBeLessThan(0.01);
    }
  });
});
