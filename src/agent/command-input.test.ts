/**
 * Nothing from the wire reaches a command unchecked (docs/security.md, "Command
 * construction"): a state whose remote underlay carries a `bridge -batch` command
 * line is refused whole before any command runs, and the last state stays enforced;
 * a good one reaches `bridge -batch` as one `fdb replace … dst IP` line.
 */
import { describe, expect, it } from 'vitest';
import type { HostState } from '../model/host-state.js';
import { hostState, RecordingNft } from '../../test/agent/support/fakes.js';
import { Agent } from './agent.js';
import type { Exec } from './exec.js';
import { LinkReconciler } from './link/reconcile.js';

/** An Exec that runs nothing: reads (`-j`) answer `[]`, every call is recorded. */
function recordingExec(): { exec: Exec; calls: { argv: string[]; input?: string }[] } {
  const calls: { argv: string[]; input?: string }[] = [];
  const exec: Exec = async (argv, input) => {
    calls.push({ argv, ...(input !== undefined ? { input } : {}) });
    return { code: 0, stdout: argv.includes('-j') ? '[]' : '', stderr: '' };
  };
  return { exec, calls };
}

function withRemote(revision: number, underlay: string): HostState {
  return hostState(revision, {
    remotes: [
      {
        name: 'db1',
        identity: 300,
        ips: ['10.0.0.3'],
        mac: '',
        subnet: 'lan',
        host: 'h2',
        underlay,
      },
    ],
  });
}

function agentOn(exec: Exec): Agent {
  return new Agent({
    host: 'h1',
    underlayIp: '192.0.2.1',
    exec,
    nft: new RecordingNft(),
    links: new LinkReconciler({ exec, nsExec: exec, underlayIp: '192.0.2.1' }),
    killDeniedFlows: false,
  });
}

describe('command input from the wire', () => {
  it('refuses a remote underlay that carries a command, running nothing', async () => {
    const { exec, calls } = recordingExec();
    const agent = agentOn(exec);
    await agent.applyState(withRemote(1, '192.0.2.2'));
    const fdb = calls.find((c) => c.argv[0] === 'bridge' && c.argv.includes('-batch'));
    expect(fdb?.input).toBe(
      `fdb replace ${fdb!.input!.split(' ')[2]} dev vnpvx1 dst 192.0.2.2 self permanent\n`,
    );
    const before = calls.length;
    await expect(
      agent.applyState(withRemote(2, '10.0.0.1 self\nlink set dev eth0 down\n')),
    ).rejects.toMatchObject({
      code: 'VNP_ERR_VALIDATION',
      details: { field: 'state.remotes[0].underlay' },
    });
    expect(calls.length).toBe(before);
    expect(JSON.stringify(calls)).not.toContain('eth0');
    // Fail-static: the last good state stays the applied one.
    expect(agent.state?.revision).toBe(1);
    expect(agent.stats.failures).toBe(1);
  });

  it('refuses a VXLAN id that is text before it becomes a device name', async () => {
    const { exec, calls } = recordingExec();
    const agent = agentOn(exec);
    const bad = withRemote(1, '192.0.2.2');
    (bad.remotes[0] as { vni?: unknown }).vni = '1 dst 10.9.9.9 self\nfdb flush dev eth0';
    await expect(agent.applyState(bad)).rejects.toMatchObject({ code: 'VNP_ERR_VALIDATION' });
    expect(calls).toEqual([]);
  });
});
