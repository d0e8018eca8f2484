/**
 * The upstream NetworkPolicy e2e scenarios (test/k8s/support/upstream-scenarios.ts)
 * through the real path: `POST /v1/import/k8s` on a real manager (PGlite), then
 * `POST /v1/check` for all 81 pod pairs of every probe. Steps of one scenario are
 * successive imports of the same source, so updates, label changes and deletions
 * (prune) go through the declarative import too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/support/test-server.js';
import { ALL_PODS, clusterObjects, podIp, POD_CIDR } from './support/netpol-model.js';
import { SCENARIOS, type Line, type Probe } from './support/upstream-scenarios.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  const r = await s.call('POST', '/v1/apply', {
    body: { documents: [{ kind: 'Subnet', name: 'pods', cidr: POD_CIDR }] },
  });
  expect(r.status, r.text).toBe(200);
}, 180_000);
afterAll(async () => {
  await s?.close();
});

function matches(pattern: string, pod: string): boolean {
  if (pattern === '*') return true;
  const [pns, pname] = pattern.split('/');
  const [ns, name] = pod.split('/');
  return (pns === '*' || pns === ns) && (pname === '*' || pname === name);
}

/** The expected verdict of one pair: all allowed, then each line in order; self always allowed. */
export function expected(lines: readonly Line[], from: string, to: string): 'allow' | 'deny' {
  if (from === to) return 'allow';
  let v: 'allow' | 'deny' = 'allow';
  for (const [f, t, verdict] of lines) if (matches(f, from) && matches(t, to)) v = verdict;
  return v;
}

async function matrix(probe: Probe): Promise<{ got: string[]; want: string[] }> {
  const got: string[] = [];
  const want: string[] = [];
  for (const from of ALL_PODS) {
    for (const to of ALL_PODS) {
      const [fns, fp] = from.split('/') as [string, string];
      const [tns, tp] = to.split('/') as [string, string];
      const r = await s.call('POST', '/v1/check', {
        body: { src: podIp(fns, fp), dst: podIp(tns, tp), protocol: probe.proto, port: probe.port },
      });
      expect(r.status, r.text).toBe(200);
      got.push(`${from} -> ${to}: ${r.body.verdict}`);
      want.push(`${from} -> ${to}: ${expected(probe.expect, from, to)}`);
    }
  }
  return { got, want };
}

describe('upstream NetworkPolicy e2e scenarios, 81 pairs each', () => {
  for (const sc of SCENARIOS) {
    it(sc.name, async () => {
      for (const [i, step] of sc.steps.entries()) {
        const r = await s.call('POST', '/v1/import/k8s', {
          body: { objects: [...clusterObjects(step.cluster), ...step.policies] },
        });
        expect(r.status, r.text).toBe(200);
        for (const probe of step.probes) {
          const { got, want } = await matrix(probe);
          expect(got, `step ${i + 1}, ${probe.proto}/${probe.port}`).toEqual(want);
        }
      }
    });
  }
});
