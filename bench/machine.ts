/**
 * What the numbers were measured on: printed with every report and saved in results.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** The machine and runtime of a run. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
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
  };
}

/**
 * One line for the report header.
 *
 * @example
 *   formatMachine(machineInfo()) // 'AMD EPYC, 2 cores, 7.8 GiB, Node v20.20.2, linux/x64, 2026-11-24T01:00:00.000Z'
 */
export function formatMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}`;
}
