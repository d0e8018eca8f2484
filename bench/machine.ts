/**
 * What the numbers were measured on: printed with every report and saved in results.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** The machine and runtime of a run. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run started: other work skews absolute figures. */
  load1: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return cpus()[0]?.model ?? 'unknown';
}

/**
 * Describes this machine, now.
 *
 * @example
 *   machineInfo() // { cpu: 'AMD EPYC', cores: 2, memoryGiB: 7.8, node: 'v20.20.2', ... }
 */
export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    date: new Date().toISOString(),
    load1: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/**
 * One line for the report header.
 *
 * @example
 *   formatMachine(machineInfo()) // 'AMD EPYC, 2 cores, 7.8 GiB, Node v20.20.2, linux/x64, 2026-11-24T01:00:00.000Z, load 0.4'
 */
export function formatMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}, load ${m.load1}`;
}

/**
 * A warning when the machine is busy enough to skew absolute figures (load above half
 * the cores), else undefined. Ratios from one run suffer less, but still some.
 *
 * @example
 *   busyWarning({ ...machineInfo(), load1: 12, cores: 2 }) // '!!! machine busy: ...'
 */
export function busyWarning(m: MachineInfo): string | undefined {
  if (m.load1 <= m.cores / 2) return undefined;
  return (
    `!!! machine busy: load average ${m.load1} on ${m.cores} cores — absolute figures are ` +
    'unreliable (best-of-5 rounds helps, it does not cure); re-run on an idle machine'
  );
}
