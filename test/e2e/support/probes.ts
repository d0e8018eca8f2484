/**
 * Flow probes with a chosen source address, for tests that compare the kernel's verdict
 * with `engine.check` flow by flow: TCP (connect), UDP (an echo answered) and ICMP (an
 * echo reply), each bound to the source address the flow names; and one echo server per
 * namespace answering TCP and UDP on a set of ports, IPv4 and IPv6.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

// Prints `allow` when the flow got through (TCP connected, UDP echoed, ICMP echo
// answered), `deny` when it timed out or the network refused it, `error …` otherwise.
const PROBE_PY = `
import errno, os, socket, struct, sys, time
proto, src, dst, port, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
v6 = ':' in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
BLOCKED = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPERM, errno.EACCES}
def done(ok): print('allow' if ok else 'deny', flush=True); sys.exit(0)
try:
    if proto == 'tcp':
        s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(timeout); s.bind((src, 0))
        s.connect((dst, port)); done(True)
    if proto == 'udp':
        s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(timeout); s.bind((src, 0))
        tag = b'vnp-%d' % os.getpid(); s.sendto(tag, (dst, port))
        done(s.recvfrom(2048)[0] == tag)
    s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.settimeout(timeout); s.bind((src, 0))
    ident = os.getpid() & 0xffff; body = b'vnp-probe'
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
        if icmp[0] == (129 if v6 else 0) and struct.unpack('!H', icmp[4:6])[0] == ident: done(True)
    done(False)
except socket.timeout:
    done(False)
except OSError as e:
    # Refused, unreachable or not permitted is the network answering no; anything
    # else (an address that cannot be bound, a bad argument) is the probe failing.
    if e.errno in BLOCKED: done(False)
    print('error', errno.errorcode.get(e.errno, e.errno), e, flush=True); sys.exit(2)
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

/**
 * Whether a flow from `src` (an address of a record in `ns`) to dst:port gets through:
 * TCP connects, UDP is echoed, ICMP is answered (`port` ignored). `timeoutMs` is how
 * long the network may take to answer, counted inside the probe once its socket is
 * ready; a deny is confirmed by a second probe waiting longer. A probe that does not report a verdict — it failed to start, failed, or
 * was killed by the watchdog — rejects: a probe that did not run is no verdict.
 *
 * @example await probe(nsA, 'udp', '10.1.0.3', '10.1.0.7', 53) // true when allowed
 */
export function probe(
  ns: string,
  proto: Exclude<Protocol, 'sctp'>,
  src: string,
  dst: string,
  port: number,
  timeoutMs = 800,
): Promise<boolean> {
  // An answer proves a flow allowed; silence may only be a busy machine, so a
  // deny is confirmed once with a longer wait before it counts.
  const once = (ms: number) => probeOnce(ns, proto, src, dst, port, ms);
  return once(timeoutMs).then((ok) => ok || once(Math.max(2000, 2.5 * timeoutMs)));
}

function probeOnce(
  ns: string,
  proto: Exclude<Protocol, 'sctp'>,
  src: string,
  dst: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  const what = `probe ${proto} ${src} → ${dst}${proto === 'icmp' ? '' : `:${port}`} in ${ns}`;
  const args = [proto, src, dst, String(port), String(timeoutMs / 1000)];
  return probeSlots(async () => {
    const r = await runWatched(
      ['ip', 'netns', 'exec', ns, python(), '-S', '-c', PROBE_PY, ...args],
      timeoutMs,
    ).catch((e: unknown) => {
      throw new Error(`${what}: no verdict: ${(e as Error).message}`);
    });
    const verdict = r.stdout.trim();
    if (r.code === 0 && (verdict === 'allow' || verdict === 'deny')) return verdict === 'allow';
    throw new Error(`${what}: no verdict (exit ${r.code}): ${(verdict + r.stderr).slice(0, 300)}`);
  });
}
