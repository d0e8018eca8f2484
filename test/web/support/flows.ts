/**
 * Flow records for browser tests, sent the way an agent reports them (POST
 * /v1/hosts/{host}/flows with the host's agent token) and judged by the manager's own
 * `check` — the fields a PEP fills from the HostState it enforces.
 */
import type { TestServer } from '../../server/support/test-server.js';

interface Side {
  verdict: 'allow' | 'deny';
  policy?: string;
  rule?: { rule: string };
  default?: { verdict: 'allow' | 'deny' };
}

function sideOf(s: Side) {
  return s.policy !== undefined
    ? { verdict: s.verdict, policy: s.policy, rule: s.rule!.rule }
    : { verdict: s.verdict, default: s.default?.verdict ?? s.verdict };
}

/**
 * One flow record as host-a's agent would report it; `verdict` overrides the judged one
 * (a flow seen before a policy change).
 */
export async function flowRecord(
  server: TestServer,
  flow: { src: string; dst: string; port: number; verdict?: 'allow' | 'deny' },
): Promise<Record<string, unknown>> {
  const c = await server.call('POST', '/v1/check', {
    body: { src: flow.src, dst: flow.dst, protocol: 'tcp', port: flow.port },
  });
  if (c.status !== 200) throw new Error(`check: ${c.text}`);
  const addr = async (name: string) =>
    ((await server.call('GET', `/v1/interfaces/${name}`)).body as { ips: string[] }).ips[0];
  const verdict = flow.verdict ?? c.body.verdict;
  return {
    time: new Date().toISOString(),
    host: 'host-a',
    src: {
      address: await addr(flow.src),
      port: 40_000 + flow.port,
      record: flow.src,
      identity: c.body.src.identity,
    },
    dst: {
      address: await addr(flow.dst),
      port: flow.port,
      record: flow.dst,
      identity: c.body.dst.identity,
    },
    protocol: 'tcp',
    port: flow.port,
    verdict,
    ...(flow.verdict === undefined
      ? { egress: sideOf(c.body.egress), ingress: sideOf(c.body.ingress) }
      : { egress: { verdict, default: verdict } }),
    state: 'new',
  };
}

/** Report records as host-a's agent. */
export async function reportFlows(
  server: TestServer,
  records: Record<string, unknown>[],
): Promise<void> {
  const r = await server.call('POST', '/v1/hosts/host-a/flows', { as: 'agent', body: { records } });
  if (r.status !== 200 && r.status !== 202) throw new Error(`flows: ${r.status} ${r.text}`);
}
