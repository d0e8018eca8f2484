/**
 * Traffic for the data-plane benchmark: iperf3 TCP throughput, and a connection-rate
 * client (N sequential connect + reset; connect latency = SYN → SYN-ACK, the cost
 * of a flow's first packet through both hosts' policy), both run inside instance
 * namespaces with `ip netns exec`. Bounded: every child has a hard timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { percentile } from './measure.js';

/** Output of a child run to completion (killed after `timeoutMs`). */
interface Done {
  code: number;
  stdout: string;
  stderr: string;
}

function runIn(ns: string, argv: string[], timeoutMs: number): Promise<Done> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A background server; `stop()` kills it (`ip netns exec` execs, so the pid is the server's). */
export interface Server {
  stop(): void;
}

/**
 * Starts `iperf3 -s` on ip:port inside `ns` and waits until it listens.
 *
 * @example const srv = await iperfServer(nsB, '10.10.0.2', 5201); try { … } finally { srv.stop(); }
 */
export async function iperfServer(ns: string, ip: string, port: number): Promise<Server> {
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns, 'iperf3', '-s', '--forceflush', '-B', ip, '-p', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = (): void => {
    child.kill('SIGKILL');
  };
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`iperf3 server did not start: ${out}`));
    }, 5000);
    const seen = (d: string): void => {
      out += d;
      if (out.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', seen);
    child.stderr!.setEncoding('utf8').on('data', seen);
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`iperf3 server exited: ${out}`));
    });
  });
  return { stop };
}

/** One iperf3 result. */
export interface Throughput {
  /** Receiver side, bits per second. */
  bps: number;
  retransmits: number;
}

/**
 * iperf3's CPU affinity (`-A client,server`): with two or more CPUs the client runs on
 * CPU 0 and the server on CPU 1 for every path measured. Left to the scheduler, the
 * two move between CPUs from run to run, and that alone moved single runs by ±8 % on
 * the 2-core machine; pinned, every path meets the same placement.
 */
export function iperfAffinity(cpus = availableParallelism()): string[] {
  return cpus >= 2 ? ['-A', '0,1'] : [];
}

/**
 * Runs `iperf3 -c ip -p port -t seconds -J` inside `ns` (pinned, see iperfAffinity);
 * throws with iperf3's error.
 *
 * @example (await iperfClient(nsA, '10.10.0.2', 5201, 3)).bps // 9.1e9
 */
export async function iperfClient(
  ns: string,
  ip: string,
  port: number,
  seconds: number,
): Promise<Throughput> {
  const r = await runIn(
    ns,
    [
      'iperf3',
      '-c',
      ip,
      '-p',
      String(port),
      '-t',
      String(seconds),
      '-J',
      '--connect-timeout',
      '2000',
      ...iperfAffinity(),
    ],
    (seconds + 15) * 1000,
  );
  let json: {
    error?: string;
    end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } };
  };
  try {
    json = JSON.parse(r.stdout) as typeof json;
  } catch {
    throw new Error(
      `iperf3 client failed (${r.code}): ${r.stderr.trim() || r.stdout.slice(0, 300)}`,
    );
  }
  if (json.error || !json.end?.sum_received)
    throw new Error(`iperf3 client failed: ${json.error ?? 'no result'}`);
  return {
    bps: json.end.sum_received.bits_per_second,
    retransmits: json.end.sum_sent?.retransmits ?? 0,
  };
}

// Sequential connect + RST (resetAndDestroy: no TIME_WAIT, so ephemeral ports never
// run out); the first `warm` connections are not counted. Prints one JSON line.
const CONN_JS = `
const net = require('node:net');
const [host, port, maxN, maxMs, warm] = process.argv.slice(1).map((x, i) => i ? Number(x) : x);
const lat = []; let fails = 0; let tStart = 0n;
function one() {
  return new Promise((res) => {
    const t = process.hrtime.bigint();
    const s = net.connect({ host, port });
    s.setTimeout(2000);
    s.once('connect', () => { const ms = Number(process.hrtime.bigint() - t) / 1e6; s.resetAndDestroy(); res(ms); });
    s.once('error', () => { s.destroy(); res(-1); });
    s.once('timeout', () => { s.destroy(); res(-1); });
  });
}
(async () => {
  for (let i = 0; i < warm; i++) await one();
  tStart = process.hrtime.bigint();
  const deadline = tStart + BigInt(maxMs) * 1000000n;
  while (lat.length + fails < maxN && process.hrtime.bigint() < deadline) {
    const ms = await one();
    if (ms < 0) fails++; else lat.push(ms);
  }
  const seconds = Number(process.hrtime.bigint() - tStart) / 1e9;
  console.log(JSON.stringify({ lat, fails, seconds }));
})();
`;

/** Connection-rate result. */
export interface ConnRate {
  connections: number;
  failures: number;
  connPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Opens up to `maxN` sequential TCP connections (within `maxMs`) from `ns` to
 * ip:port, each reset right after it is established.
 *
 * @example (await connRate(nsA, '10.10.0.2', 8080, 2000, 4000)).p50Ms // 0.12
 */
export async function connRate(
  ns: string,
  ip: string,
  port: number,
  maxN: number,
  maxMs: number,
): Promise<ConnRate> {
  const r = await runIn(
    ns,
    ['node', '-e', CONN_JS, ip, String(port), String(maxN), String(maxMs), '20'],
    maxMs + 60_000,
  );
  let out: { lat: number[]; fails: number; seconds: number };
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as typeof out;
  } catch {
    throw new Error(`connection client failed (${r.code}): ${r.stderr.trim().slice(0, 300)}`);
  }
  return {
    connections: out.lat.length,
    failures: out.fails,
    connPerSec: out.lat.length / out.seconds,
    p50Ms: percentile(out.lat, 50),
    p99Ms: percentile(out.lat, 99),
  };
}
