/**
 * What the OVS PEP does not enforce is said, not silently dropped: steering entries
 * and `log` verdicts in a state are named in the agent's log, once per change
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
  it('names ignored steering entries and unlogged log verdicts, once per change', async () => {
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
      'OVS bridge br: 1 steering entries ignored (steering is not implemented on OVS); 1 log-verdict entries allow without logging',
    ]);
    await apply(state(3, 'allow', false));
    await apply(state(4, 'log', false));
    expect(lines.filter((l) => l.includes('OVS bridge br:')).at(-1)).toBe(
      'OVS bridge br: 1 log-verdict entries allow without logging',
    );
  });
});
