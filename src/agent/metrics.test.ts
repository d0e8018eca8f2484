import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { agentMetricsText, parseListen, serveAgentMetrics, type MetricsSource } from './metrics.js';

const source = (): MetricsSource => ({
  agent: {
    stats: {
      applies: 3,
      fullApplies: 1,
      deltaApplies: 2,
      failures: 0,
      killedFlows: 0,
      resteeredFlows: 0,
      linkFailures: 0,
      unchanged: 4,
      sweepFailures: 0,
      adopted: false,
      reprograms: 0,
    },
  },
  flows: { counters: { seen: 10, sampled: 7, unsampled: 93, dropped: 1 }, buffered: 5 },
});

describe('agent metrics', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('says events seen, sampled, not sampled and dropped, and the applies', () => {
    const text = agentMetricsText(source());
    expect(text).toContain('vnp_agent_flow_events_total{kind="seen"} 10');
    expect(text).toContain('vnp_agent_flow_events_total{kind="sampled"} 7');
    expect(text).toContain('vnp_agent_flow_events_total{kind="unsampled"} 93');
    expect(text).toContain('vnp_agent_flow_events_total{kind="dropped"} 1');
    expect(text).toContain('vnp_agent_flow_records_buffered 5');
    expect(text).toContain('vnp_agent_applies_total{outcome="delta"} 2');
    expect(text).toContain('vnp_agent_sweep_failures_total 0');
    expect(agentMetricsText({ ...source(), flows: undefined })).not.toContain('flow');
  });

  it('serves GET /metrics, 404 elsewhere; refuses an address that is not HOST:PORT', async () => {
    server = await serveAgentMetrics('127.0.0.1:0', source());
    const { port } = server.address() as { port: number };
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('vnp_agent_flow_events_total{kind="seen"} 10');
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(() => parseListen('9464')).toThrow(/HOST:PORT/);
    expect(() => parseListen('a:99999')).toThrow(/HOST:PORT/);
  });
});
