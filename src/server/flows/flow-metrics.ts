/**
 * Prometheus metrics of flows (docs/flows.md): `vnp_flows_total{verdict,policy,rule}`
 * counts connection decisions by deciding policy and rule: allowed ones by their
 * records, denied ones by the kernel's exact per-rule counters where the host reports
 * them (nftables; each denied packet is a decision; docs/adr/0066) and by their
 * records (samples) where it does not (OVS). Labels are bounded by the
 * configuration: a policy the model does not hold (deleted since) counts as `other`,
 * and a rule label is `default` or a rule index of a policy that exists. The agents'
 * own counters (events seen, deny packets sampled and not, records dropped) are
 * exposed per host as they last reported them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { decision, type StoredFlow } from '../../model/flow.js';
import type { Manager } from '../manager.js';
import type { FlowHub } from './flow-hub.js';

const RULE_RE = /^(egress|ingress)\[\d+\]$/;

/**
 * Register the flow metrics on a registry.
 *
 * @example installFlowMetrics(registry, manager, hub);
 */
export function installFlowMetrics(registry: Registry, manager: Manager, hub: FlowHub): void {
  const flows = new Counter({
    name: 'vnp_flows_total',
    help: 'Connection decisions reported by the PEPs, by verdict and deciding policy and rule',
    labelNames: ['verdict', 'policy', 'rule'] as const,
    registers: [registry],
  });
  const labels = (verdict: string, policy: string, rule: string) => {
    const known = policy === '' || manager.engine.get('Policy', policy) !== undefined;
    return {
      verdict,
      policy: known ? policy : 'other',
      rule: known && (rule === 'default' || RULE_RE.test(rule)) ? rule : 'other',
    };
  };
  hub.onFlows((batch: StoredFlow[]) => {
    for (const f of batch) {
      if (f.state !== 'new') continue;
      // The host's exact counts stand for its deny samples.
      if (f.verdict === 'deny' && hub.denied.reports(f.host)) continue;
      const d = decision(f);
      flows.inc(labels(f.verdict, d.policy, d.rule));
    }
  });
  hub.denied.onDelta((policy, rule, packets) => flows.inc(labels('deny', policy, rule), packets));
  new Gauge({
    name: 'vnp_flow_records',
    help: 'Flow records the manager stored, refused (queue full) and lost (store error) since it started',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.set({ outcome: 'stored' }, hub.stats.stored);
      this.set({ outcome: 'refused' }, hub.stats.refused);
      this.set({ outcome: 'failed' }, hub.stats.failed);
    },
  });
  new Gauge({
    name: 'vnp_pep_flow_events',
    help: "A PEP's flow counters as it last reported them: kernel events seen, deny packets sampled and not sampled (rate limit), records dropped (buffer full)",
    labelNames: ['host', 'kind'] as const,
    registers: [registry],
    collect() {
      for (const [host, c] of hub.agentCounters())
        for (const kind of ['seen', 'sampled', 'unsampled', 'dropped'] as const)
          this.set({ host, kind }, c[kind]);
    },
  });
}
