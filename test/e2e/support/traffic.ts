/**
 * Real traffic between namespaces: TCP connects (bash /dev/tcp under timeout),
 * ICMP echo (a few lines of python with a raw socket: no ping binary needed),
 * a TCP sink that reports what it receives, and a client that keeps sending.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { python } from './python.js';

/**
 * Exit code and output of a command run to completion; rejects when it could not
 * start or hung. The command bounds its own wait (timeoutMs); the watchdog only
 * catches a hang, and a hung or unstartable command is an error, never a blocked flow.
 *
 * @example const r = await runWatched(['ip', 'netns', 'exec', ns, 'true'], 800); // { code: 0, … }
 */
export function runWatched(
  argv: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const what = argv
    .filter((a) => !a.includes('\n'))
    .join(' ')
    .slice(0, 200);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs + 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: could not start: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (killed || code === null) reject(new Error(`${what}: killed: ${stderr.trim()}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** What bash says when the network refuses or never answers a connect. */
const TCP_BLOCKED =
  /Connection refused|Connection reset|No route to host|Network is unreachable|Connection timed out|Operation not permitted/;

/**
 * Whether a TCP connection from namespace `ns` to ip:port is established within `timeoutMs`.
 *
 * @example await tcpConnects('vnpt-ab-i-a', '10.10.0.2', 8080) // true
 */
export async function tcpConnects(
  ns: string,
  ip: string,
  port: number,
  timeoutMs = 800,
): Promise<boolean> {
  const r = await runWatched(
    [
      'ip',
      'netns',
      'exec',
      ns,
      'timeout',
      String(timeoutMs / 1000),
      'bash',
      '-c',
      `exec 3<>/dev/tcp/${ip}/${port}`,
    ],
    timeoutMs,
  );
  if (r.code === 0) return true;
  // 124: `timeout` stopped a connect still waiting.
  if (r.code === 124 || (r.code === 1 && TCP_BLOCKED.test(r.stderr))) return false;
  throw new Error(`tcp ${ip}:${port} from ${ns}: no verdict (exit ${r.code}): ${r.stderr.trim()}`);
}

const PING_PY = `
import os, socket, struct, sys, time
NO_REPLY = 10
dst = sys.argv[1]; v6 = ':' in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
s.settimeout(float(sys.argv[2]))
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b)//2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
# A raw socket sees every ICMP packet of the namespace: only the echo reply from dst
# with this probe's identifier counts (probes run concurrently from one namespace).
ident = os.getpid() & 0xffff; body = b'vnp-probe'
typ = 128 if v6 else 8
hdr = struct.pack('!BBHHH', typ, 0, 0, ident, 1)
pkt = hdr if v6 else struct.pack('!BBHHH', typ, 0, csum(hdr + body), ident, 1)
s.sendto(pkt + body, (dst, 0))
want = socket.inet_pton(fam, dst)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try: data, src = s.recvfrom(2048)
    except socket.timeout: break
    icmp = data if v6 else data[(data[0] & 15) * 4:]
    if socket.inet_pton(fam, src[0].split('%')[0]) != want or len(icmp) < 6: continue
    if icmp[0] == (129 if v6 else 0) and struct.unpack('!H', icmp[4:6])[0] == ident: sys.exit(0)
sys.exit(NO_REPLY)
`;
/** PING_PY's exit code for "no echo reply in time" (any other failure exits 1). */
const NO_REPLY = 10;

/**
 * Whether an ICMP echo from namespace `ns` to `ip` is answered.
 *
 * @example await pings('vnpt-ab-i-a', '10.10.0.2') // true
 */
export async function pings(ns: string, ip: string, timeoutMs = 800): Promise<boolean> {
  const r = await runWatched(
    ['ip', 'netns', 'exec', ns, python(), '-S', '-c', PING_PY, ip, String(timeoutMs / 1000)],
    timeoutMs,
  );
  if (r.code === 0) return true;
  if (r.code === NO_REPLY) return false;
  throw new Error(`ping ${ip} from ${ns}: no verdict (exit ${r.code}): ${r.stderr.trim()}`);
}

/** A long-running process with its stdout lines. */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<void>;
  stop(): void;
}

function spawnProc(argv: string[]): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr!.resume();
  return {
    child,
    lines,
    waitFor(pred, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timeout waiting; got: ${lines.slice(-5).join(' | ')}`)),
          timeoutMs,
        );
        const check = () => {
          if (lines.some(pred)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
}

const SERVER_JS = `
const net = require('node:net'); const [host, ...ports] = process.argv.slice(1);
for (const p of ports) net.createServer((s) => { s.on('data', (d) => console.log('data ' + p + ' ' + d.length)); s.on('error', () => {}); })
  .listen(Number(p), host, () => console.log('listening ' + p));
`;

/**
 * TCP servers on `ports` at `ip` inside `ns`; prints `data PORT N` per chunk.
 *
 * @example const srv = await tcpServer(ns, '10.10.0.2', [8080, 9090]);
 */
export async function tcpServer(ns: string, ip: string, ports: number[]): Promise<Proc> {
  const p = spawnProc([
    'ip',
    'netns',
    'exec',
    ns,
    'node',
    '-e',
    SERVER_JS,
    ip,
    ...ports.map(String),
  ]);
  for (const port of ports) await p.waitFor((l) => l === `listening ${port}`, 10_000);
  return p;
}

const CLIENT_JS = `
const net = require('node:net'); const [host, port] = process.argv.slice(1);
const s = net.connect(Number(port), host, () => { console.log('connected'); setInterval(() => s.write('x'), 100); });
s.on('error', (e) => console.log('error ' + e.code));
`;

/**
 * A client in `ns` that connects to ip:port and sends a byte every 100 ms.
 *
 * @example const c = await steadyClient(ns, '10.10.0.2', 8080);
 */
export async function steadyClient(ns: string, ip: string, port: number): Promise<Proc> {
  const p = spawnProc(['ip', 'netns', 'exec', ns, 'node', '-e', CLIENT_JS, ip, String(port)]);
  await p.waitFor((l) => l === 'connected', 5000);
  return p;
}

/**
 * Starts tcpdump in `ns` on `dev` writing a pcap; stop() ends it (after flush).
 *
 * @example const cap = await capture(ul, 'br0', '/tmp/x.pcap', 'udp port 4789');
 */
export async function capture(
  ns: string,
  dev: string,
  file: string,
  filter: string,
): Promise<{ stop(): Promise<string> }> {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, 'tcpdump', '-Z', 'root', '-i', dev, '-U', '-w', file, filter],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  let exited = false;
  child.on('close', () => (exited = true));
  await new Promise<void>((resolve) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.includes('listening on')) resolve();
    });
    child.on('close', () => resolve());
    setTimeout(resolve, 5000);
  });
  // "listening on" comes right after the socket is bound; give the ring a moment.
  await new Promise((r) => setTimeout(r, 200));
  return {
    /** Stops the capture (flushing the file); resolves with tcpdump's messages. */
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve(err);
        child.on('close', () => resolve(err));
        child.kill('SIGINT');
      }),
  };
}
