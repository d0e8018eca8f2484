/**
 * What the OVS PEP does not enforce is said, not silently dropped: steering entries
 * in a state are named in the agent's log, once per change
 * (docs/adr/0030-ovs-steering-log-flows.md).
 */
import { describe, expect, it } from 'vitest';
import { OvsDatapath } from '../../src/agent/ovs/ovs-datapath.js';
import type { HostState } from '../../src/model/host-state.js';
import { hostState } from './support/fakes.js';

const entry = {
  policy: 'p',
  rule: 'egress[0]',
  proto: 'tcp' as const,
  ports: [80, 80] as [number, number],
};

function state(revision: number, verdict: 'allow' | 'log', routes: boolean): HostState {
  return hostState(revision, {
    sides: [
      {
        identity: 256,
        direction: 'egress',
        cidr: [],
        peers: [{ ...entry, peer: 257, verdict }],
        any: [],
        ...(routes
          ? {
              routes: {
                cidr: [],
                peers: [],
                any: [{ proto: 'tcp', ports: [80, 80], steer: 1, policy: 'p', route: 'routes[0]' }],
              },
            }
          : {}),
      },
    ],
  });
}

describe('OvsDatapath warnings', () => {
  it('names ignored steering entries, once per change; log verdicts are not among them', async () => {
    const lines: string[] = [];
    const dp = new OvsDatapath({
      bridge: 'br',
      underlayIp: '192.0.2.1',
      rundir: '/nonexistent',
      // No OVS here: every command fails after the warning was logged.
      exec: () => Promise.resolve({ code: 1, stdout: '', stderr: 'no ovs' }),
      log: (m) => lines.push(m),
    });
    const apply = (s: HostState) => dp.applyPolicy(s).catch(() => undefined);
    await apply(state(1, 'log', true));
    await apply(state(2, 'log', true));
    expect(lines.filter((l) => l.includes('OVS bridge br:'))).toEqual([
      'OVS bridge br: 1 steering entries ignored (steering is not implemented on OVS)',
    ]);
    await apply(state(3, 'allow', false));
    // A log verdict is enforced (a metered copy to the agent, docs/adr/0042-ovs-flows.md).
    await apply(state(4, 'log', false));
    await apply(state(5, 'log', true));
    expect(lines.filter((l) => l.includes('OVS bridge br:'))).toEqual([
      'OVS bridge br: 1 steering entries ignored (steering is not implemented on OVS)',
      'OVS bridge br: 1 steering entries ignored (steering is not implemented on OVS)',
    ]);
  });
});
