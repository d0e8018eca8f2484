/**
 * Simulated agents for the distribution benchmark, in their own process (forked by
 * bench/distribution.ts with an IPC channel): each holds a real HTTP watch stream,
 * folds deltas with applyHostDelta and acknowledges every applied revision exactly as
 * the real agent's protocol layer does (src/agent/protocol/follow-host.ts); only the
 * kernel is missing.
 *
 * Messages: in `{type:'start', url, agents:[{host, token}]}` → out `{type:'ready', rssMb}`;
 * in `{type:'expect', revision, timeoutMs}` → out `{type:'acked', times, missing}` with,
 * per agent, the epoch time (ms, sub-ms precision) its ack of `revision` was accepted.
 */
import { Agent as HttpAgent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { followHost, type HostFollower } from '../src/agent/protocol/follow-host.js';

interface Start {
  type: 'start';
  url: string;
  agents: { host: string; token: string }[];
}
interface Expect {
  type: 'expect';
  revision: number;
  timeoutMs: number;
}

const epochMs = () => performance.timeOrigin + performance.now();
const followers: HostFollower[] = [];
/** Per agent: the first revision acked at or after each awaited one, and when. */
const ackedAt: { revision: number; at: number }[][] = [];
const send = (msg: unknown) => process.send?.(msg);

async function start(msg: Start): Promise<void> {
  // Acks share a keep-alive pool, as many real agents share nothing but the network.
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const batch = 250;
  for (let i = 0; i < msg.agents.length; i += batch) {
    const ready: Promise<void>[] = [];
    for (const [j, a] of msg.agents.slice(i, i + batch).entries()) {
      const idx = i + j;
      ackedAt[idx] = [];
      const f = followHost({
        servers: [msg.url],
        host: a.host,
        token: a.token,
        underlayIp: `192.0.${(idx >> 8) & 255}.${idx & 255}`,
        httpAgent,
        heartbeatTimeoutMs: 60_000,
        onAck: (revision) => ackedAt[idx]!.push({ revision, at: epochMs() }),
      });
      followers.push(f);
      ready.push(f.ready);
    }
    await Promise.all(ready);
  }
  send({ type: 'ready', rssMb: process.memoryUsage().rss / 2 ** 20 });
}

async function expectRevision(msg: Expect): Promise<void> {
  const deadline = Date.now() + msg.timeoutMs;
  const timeOf = (i: number) => ackedAt[i]!.find((x) => x.revision >= msg.revision)?.at;
  for (;;) {
    const missing = followers.filter((_, i) => timeOf(i) === undefined).length;
    if (missing === 0 || Date.now() > deadline) {
      const times = followers.map((_, i) => timeOf(i) ?? Number.NaN);
      for (const list of ackedAt) list.length = 0;
      send({ type: 'acked', times, missing });
      return;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

process.on('message', (msg: Start | Expect | { type: 'stop' }) => {
  if (msg.type === 'start') void start(msg);
  else if (msg.type === 'expect') void expectRevision(msg);
  else if (msg.type === 'stop')
    void Promise.all(followers.map((f) => f.stop())).then(() => process.exit(0));
});
