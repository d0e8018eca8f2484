/**
 * The agent's own Prometheus metrics (`vnp agent --metrics-listen HOST:PORT`,
 * docs/agent.md): its flow collection's counters — kernel events seen, deny packets
 * sampled to user space and kept back by the rate limit (exact nft counters), records
 * dropped because the buffer was full, records waiting — and its apply counters. The
 * same flow counters reach the manager with each batch (`vnp_pep_flow_events`); these
 * are read on the host, also while no manager answers.
 */
import { createServer, type Server } from 'node:http';
import type { FlowCounters } from '../model/flow.js';
import type { AgentStats } from './agent.js';

/** What the metrics are read from (an AgentHandle fits). */
export interface MetricsSource {
  agent: { stats: AgentStats };
  flows: { counters: FlowCounters; buffered: number } | undefined;
}

/**
 * The Prometheus text of `src`.
 *
 * @example agentMetricsText(handle) // '# HELP vnp_agent_flow_events_total …'
 */
export function agentMetricsText(src: MetricsSource): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
  };
  const c = src.flows?.counters;
  if (c) {
    metric(
      'vnp_agent_flow_events_total',
      'counter',
      'Flow collection: kernel events seen (conntrack events and deny samples), deny packets sampled to user space and not sampled (rate limit; exact nft counters), records dropped (buffer full)',
      (['seen', 'sampled', 'unsampled', 'dropped'] as const).map((k) => [`{kind="${k}"}`, c[k]]),
    );
    metric('vnp_agent_flow_records_buffered', 'gauge', 'Flow records waiting for a manager', [
      ['', src.flows!.buffered],
    ]);
  }
  const s = src.agent.stats;
  metric('vnp_agent_applies_total', 'counter', 'States applied, by outcome', [
    ['{outcome="full"}', s.fullApplies],
    ['{outcome="delta"}', s.deltaApplies],
    ['{outcome="unchanged"}', s.unchanged],
    ['{outcome="failed"}', s.failures],
  ]);
  metric(
    'vnp_agent_sweep_failures_total',
    'counter',
    'Connection sweeps after an applied state that failed (the state stays applied)',
    [['', s.sweepFailures]],
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Serves `GET /metrics` on `listen` (`HOST:PORT`, `[::1]:PORT`); resolves once listening.
 *
 * @example const srv = await serveAgentMetrics('127.0.0.1:9464', handle);
 */
export async function serveAgentMetrics(listen: string, src: MetricsSource): Promise<Server> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found: GET /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(agentMetricsText(src));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return server;
}

/** `HOST:PORT` or `[V6]:PORT`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`not HOST:PORT: ${JSON.stringify(listen)}`);
  return { host: m[1] ?? m[2]!, port };
}
