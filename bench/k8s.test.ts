/**
 * Smoke test of the k8s bench: a small generated cluster imports, and on its flows
 * the compiled engine (check and fast path) agrees with the §2 oracle, so
 * the suite's verdicts/s are of correct verdicts.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceJudge } from './baselines/reference.js';
import { generateCluster, importCluster, podFlows } from './k8s.js';

describe('bench k8s: the generated cluster', () => {
  it('imports, and the engine agrees with the §2 oracle', () => {
    const objects = generateCluster({ pods: 300, policies: 40, namespaces: 6, apps: 20 });
    const imp = importCluster(objects);
    expect(imp.documents.filter((d) => d.kind === 'Interface')).toHaveLength(300);
    const reference = new ReferenceJudge([
      { kind: 'Subnet', name: 'pods', cidr: '10.0.0.0/8' },
      ...imp.documents,
    ]);
    const flows = podFlows(imp.documents, 400);
    let allowed = 0;
    for (const f of flows) {
      const want = reference.allows(f);
      expect(imp.engine.check(f).verdict === 'allow', JSON.stringify(f)).toBe(want);
      expect(imp.engine.verdict(f.src, f.dst, f.protocol, f.port)).toBe(want);
      if (want) allowed++;
    }
    // Both verdicts occur: the flows exercise isolation and allows.
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(flows.length);
  });
});
