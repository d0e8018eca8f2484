/**
 * Flow probes with a chosen source address, for tests that compare the kernel's verdict
 * with `engine.check` flow by flow: TCP (connect), UDP (an echo answered) and ICMP (an
 * echo reply), each bound to the source address the flow names, all flows of one
 * namespace probed at once by one process; and one echo server per namespace answering
 * TCP and UDP on a set of ports, IPv4 and IPv6.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Protocol } from '../../../src/model/types.js';
import { probeSlots, python } from './python.js';
import { runWatched } from './traffic.js';

// One process per namespace: a dual-stack TCP listener and UDP echo per port.
// The UDP echo answers from the address the datagram was sent to (IP_PKTINFO /
// IPV6_PKTINFO): a wildcard socket would answer from the primary address, which for a
// record with several addresses is another flow than the probe's, judged on its own.
const ECHO_PY = `
import select, socket, sys
IP_PKTINFO, IPV6_RECVPKTINFO, IPV6_PKTINFO = 8, 49, 50
PKTINFO = {(socket.IPPROTO_IP, IP_PKTINFO), (socket.IPPROTO_IPV6, IPV6_PKTINFO)}
socks = []
for p in map(int, sys.argv[1:]):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if kind == socket.SOCK_DGRAM:
            s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        s.bind(('::', p))
        if kind == socket.SOCK_STREAM: s.listen(64)
        socks.append(s)
print('ready', flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        try:
            if s.type == socket.SOCK_STREAM: s.accept()[0].close()
            else:
                data, anc, _, peer = s.recvmsg(2048, 256)
                s.sendmsg([data], [c for c in anc if (c[0], c[1]) in PKTINFO], 0, peer)
        except OSError: pass
`;

// Probes many flows from one namespace at once, one thread each, and prints one line
// per flow in order: `allow` when it got through (TCP connected, UDP echoed, ICMP echo
// answered), `deny` when it timed out or the network refused it — twice: silence may
// only be a busy machine, so a deny is confirmed with a longer wait — and `error …`
// otherwise. One interpreter per namespace and round instead of one per flow: starting
// interpreters was most of the cost on a loaded machine.
const PROBE_PY = `
import errno, os, socket, struct, sys, threading, time
first, confirm = float(sys.argv[1]), float(sys.argv[2])
args = sys.argv[3:]
flows = [args[i:i + 4] for i in range(0, len(args), 4)]
BLOCKED = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPERM, errno.EACCES}
def once(i, proto, src, dst, port, timeout):
    v6 = ':' in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    try:
        if proto == 'tcp':
            s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(timeout); s.bind((src, 0))
            s.connect((dst, port)); s.close(); return True
        if proto == 'udp':
            s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(timeout); s.bind((src, 0))
            tag = b'vnp-%d-%d' % (os.getpid(), i); s.sendto(tag, (dst, port))
            return s.recvfrom(2048)[0] == tag
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
        s.settimeout(timeout); s.bind((src, 0))
        # Every thread's raw socket sees every reply: the identifier names the flow.
        ident = ((os.getpid() << 8) | i) & 0xffff; body = b'vnp-probe'
        hdr = struct.pack('!BBHHH', 128 if v6 else 8, 0, 0, ident, 1)
        if not v6:
            b = hdr + body; b += b'\\0' * (len(b) % 2); t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
            t = (t >> 16) + (t & 0xffff); t += t >> 16
            hdr = struct.pack('!BBHHH', 8, 0, ~t & 0xffff, ident, 1)
        s.sendto(hdr + body, (dst, 0))
        want = socket.inet_pton(fam, dst); end = time.time() + timeout
        while time.time() < end:
            data, peer = s.recvfrom(2048)
            icmp = data if v6 else data[(data[0] & 15) * 4:]
            if socket.inet_pton(fam, peer[0].split('%')[0]) != want or len(icmp) < 6: continue
            if icmp[0] == (129 if v6 else 0) and struct.unpack('!H', icmp[4:6])[0] == ident: return True
        return False
    except socket.timeout:
        return False
    except OSError as e:
        # Refused, unreachable or not permitted is the network answering no; anything
        # else (an address that cannot be bound, a bad argument) is the probe failing.
        if e.errno in BLOCKED: return False
        raise
out = ['error not run'] * len(flows)
def run(i, proto, src, dst, port):
    try:
        ok = once(i, proto, src, dst, int(port), first) or once(i, proto, src, dst, int(port), confirm)
        out[i] = 'allow' if ok else 'deny'
    except Exception as e:
        out[i] = 'error %s %s' % (errno.errorcode.get(getattr(e, 'errno', None), ''), e)
threads = [threading.Thread(target=run, args=(i, *f)) for i, f in enumerate(flows)]
for t in threads: t.start()
for t in threads: t.join()
print('\\n'.join(out), flush=True)
`;

/** A running echo server; `stop()` kills it. */
export interface EchoServer {
  stop(): void;
}

/**
 * Starts the TCP + UDP echo server on `ports` inside `ns` (both families) and waits
 * until it listens.
 *
 * @example const srv = await echoServer(ns, [80, 443]); try { … } finally { srv.stop(); }
 */
export function echoServer(ns: string, ports: number[]): Promise<EchoServer> {
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns, python(), '-S', '-c', ECHO_PY, ...ports.map(String)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = (): void => void child.kill('SIGKILL');
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`echo server in ${ns} did not start: ${out}`));
    }, 10_000);
    const seen = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve({ stop });
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`echo server in ${ns} exited: ${out}`));
    });
  });
}

/** One flow to probe: from `src` (an address of a record in the namespace) to dst:port. */
export interface ProbeFlow {
  proto: Exclude<Protocol, 'sctp'>;
  src: string;
  dst: string;
  /** Ignored for ICMP. */
  port: number;
}

/**
 * Whether each flow from namespace `ns` gets through: TCP connects, UDP is echoed,
 * ICMP is answered. All flows of one namespace are probed at once by one process.
 * `timeoutMs` is how long the network may take to answer, counted once a flow's
 * socket is ready; a deny is confirmed by a second try waiting longer. A flow without
 * a verdict — the process failed or was killed by the watchdog, or a probe raised —
 * rejects: a probe that did not run is no verdict.
 *
 * @example await probeFlows(nsA, [{ proto: 'udp', src: '10.1.0.3', dst: '10.1.0.7', port: 53 }]) // [true]
 */
export async function probeFlows(
  ns: string,
  flows: readonly ProbeFlow[],
  timeoutMs = 800,
): Promise<boolean[]> {
  if (flows.length === 0) return [];
  const confirmMs = Math.max(2000, 2.5 * timeoutMs);
  const args = flows.flatMap((f) => [f.proto, f.src, f.dst, String(f.port)]);
  const times = [String(timeoutMs / 1000), String(confirmMs / 1000)];
  const r = await probeSlots(() =>
    runWatched(
      ['ip', 'netns', 'exec', ns, python(), '-S', '-c', PROBE_PY, ...times, ...args],
      timeoutMs + confirmMs,
    ),
  ).catch((e: unknown) => {
    throw new Error(`probes in ${ns}: no verdict: ${(e as Error).message}`);
  });
  const lines = r.stdout.trim().split('\n');
  if (r.code !== 0 || lines.length !== flows.length)
    throw new Error(
      `probes in ${ns}: no verdicts (exit ${r.code}): ${(r.stdout + r.stderr).slice(0, 300)}`,
    );
  return flows.map((f, i) => {
    const verdict = lines[i]!;
    if (verdict === 'allow' || verdict === 'deny') return verdict === 'allow';
    const what = `probe ${f.proto} ${f.src} → ${f.dst}${f.proto === 'icmp' ? '' : `:${f.port}`} in ${ns}`;
    throw new Error(
      `${what}: no verdict: ${verdict.slice(0, 300)}${addressesIfMissing(ns, verdict)}`,
    );
  });
}

/**
 * For a source address the namespace lacks (EADDRNOTAVAIL: the record's veth was not
 * plumbed, or was lost), the namespace's addresses as `ip -n NS -j addr` shows them.
 */
function addressesIfMissing(ns: string, verdict: string): string {
  if (!verdict.includes('EADDRNOTAVAIL')) return '';
  try {
    const addrs = execFileSync('ip', ['-n', ns, '-j', 'addr'], { encoding: 'utf8' });
    return `; ip -n ${ns} -j addr: ${addrs.trim()}`;
  } catch (err) {
    return `; ip -n ${ns} -j addr failed: ${(err as Error).message}`;
  }
}
