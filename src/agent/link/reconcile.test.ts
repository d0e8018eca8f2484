/**
 * The link reconciler against a scripted `ip`: a veth that vanishes between the read
 * and its removal (its peer went with its namespace, or the record's new host
 * re-plumbed the namespace) must not keep the other records from being plumbed.
 */
import { describe, expect, it } from 'vitest';
import { hostState, LOCAL_A } from '../../../test/agent/support/fakes.js';
import type { Exec } from '../exec.js';
import { vethName } from '../names.js';
import { LinkReconciler } from './reconcile.js';

const GONE = vethName('moved-away');

/** `ip -j -d link show` lists GONE (a record no longer here), which is gone on delete. */
function vanishingExec(stillThere = false): { exec: Exec; calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = async (argv) => {
    const cmd = argv.join(' ');
    calls.push(cmd);
    if (cmd === 'ip -j -d link show') {
      const l = { ifname: GONE, ifalias: 'vnp:moved-away:ns:x:', linkinfo: { info_kind: 'veth' } };
      return { code: 0, stdout: JSON.stringify([l]), stderr: '' };
    }
    if (cmd === `ip link del ${GONE}`) return { code: 1, stdout: '', stderr: 'Cannot find device' };
    if (cmd === `ip link show dev ${GONE}`)
      return stillThere
        ? { code: 0, stdout: '', stderr: '' }
        : { code: 1, stdout: '', stderr: 'Device does not exist' };
    return { code: 0, stdout: argv.includes('-j') ? '[]' : '', stderr: '' };
  };
  return { exec, calls };
}

describe('LinkReconciler', () => {
  it('plumbs the wanted records although a stale veth vanished before its removal', async () => {
    const { exec, calls } = vanishingExec();
    const links = new LinkReconciler({ exec, nsExec: exec, underlayIp: '192.0.2.1' });
    const report = await links.reconcile(hostState(1, { locals: [LOCAL_A] }));
    expect(report.removed).toEqual([GONE]);
    expect(report.failed).toEqual([]);
    expect(report.created).toContain(vethName('a'));
    expect(calls.some((c) => c.startsWith(`ip link add ${vethName('a')} `))).toBe(true);
  });

  it('still fails when a stale veth cannot be deleted and is there', async () => {
    const { exec } = vanishingExec(true);
    const links = new LinkReconciler({ exec, nsExec: exec, underlayIp: '192.0.2.1' });
    await expect(links.reconcile(hostState(1, { locals: [LOCAL_A] }))).rejects.toThrow(
      `ip link del ${GONE} failed`,
    );
  });
});
