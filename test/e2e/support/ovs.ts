/**
 * A private Open vSwitch per test host: its own ovsdb-server and ovs-vswitchd, run
 * directory, database and sockets, started inside the host's namespace and stopped by
 * PID (also when a test fails). A system-wide OVS is never touched.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sh } from './topology.js';

/** One running OVS. */
export interface TestOvs {
  rundir: string;
  /** Kills this ovs-vswitchd by its PID (a crash: SIGKILL) and starts it again. */
  restartVswitchd(): Promise<void>;
  stop(): void;
}

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** The commands an OVS test host needs. */
export const OVS_TOOLS = [
  ['ovsdb-server', '--version'],
  ['ovs-vswitchd', '--version'],
  ['ovs-vsctl', '--version'],
  ['ovs-ofctl', '--version'],
  ['ovs-appctl', '--version'],
];

/**
 * Starts ovsdb-server and ovs-vswitchd in `netns` with everything under a fresh
 * directory named after the namespace.
 *
 * @example const ovs = startOvs(h.netns); try { … } finally { ovs.stop(); }
 */
export function startOvs(netns: string): TestOvs {
  const dir = join(tmpdir(), `${netns}-ovs`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const inNs = (argv: string[]) => sh(['ip', 'netns', 'exec', netns, ...argv]);
  const stop = () => {
    for (const d of ['ovs-vswitchd', 'ovsdb-server']) {
      const pidfile = join(dir, `${d}.pid`);
      if (!existsSync(pidfile)) continue;
      try {
        process.kill(Number(readFileSync(pidfile, 'utf8').trim()), 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const startVswitchd = () =>
    inNs([
      'env',
      `OVS_RUNDIR=${dir}`,
      `OVS_DBDIR=${dir}`,
      `OVS_LOGDIR=${dir}`,
      'ovs-vswitchd',
      `unix:${join(dir, 'db.sock')}`,
      `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`,
      `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`,
      `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
      '--detach',
    ]);
  const restartVswitchd = async (): Promise<void> => {
    const pidfile = join(dir, 'ovs-vswitchd.pid');
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      // Gone, or a zombie no one has reaped yet (it holds no socket any more).
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        break;
      }
      if (/\) Z /.test(stat)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(pidfile, { force: true });
    startVswitchd();
  };
  try {
    sh(['ovsdb-tool', 'create', join(dir, 'conf.db'), SCHEMA]);
    inNs([
      'ovsdb-server',
      join(dir, 'conf.db'),
      `--remote=punix:${join(dir, 'db.sock')}`,
      `--pidfile=${join(dir, 'ovsdb-server.pid')}`,
      `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
      `--log-file=${join(dir, 'ovsdb-server.log')}`,
      '--detach',
    ]);
    // Read at start only. With it, netdev-linux takes the kernel's checksum-offload
    // metadata (a veth's TCP checksum is left to the NIC), so conntrack does not call
    // every locally sent segment invalid (docs/agent.md, "OVS host requirements").
    sh([
      'ovs-vsctl',
      `--db=unix:${join(dir, 'db.sock')}`,
      '--no-wait',
      'init',
      '--',
      'set',
      'Open_vSwitch',
      '.',
      'other_config:userspace-tso-enable=true',
    ]);
    startVswitchd();
  } catch (err) {
    stop();
    throw err;
  }
  return { rundir: dir, restartVswitchd, stop };
}
