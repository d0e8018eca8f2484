/**
 * Simulated agents for the distribution benchmark, in their own process (forked by
 * bench/distribution.ts with an IPC channel): each holds a real connection to the
 * manager (the WebSocket channel), folds deltas with applyHostDelta and acknowledges
 * every applied revision through the real agent's own protocol loop (followHost,
 * src/agent/protocol/follow-host.ts, which runAgent drives with Agent.applyState);
 * only the kernel is missing. The benchmark
 * times the ACKs where the manager accepts them.
 *
 * Messages: in `{type:'start', url, agents:[{host, token}]}` → out `{type:'ready', rssMb}`;
 * `{type:'profile'}` → `{type:'profiling'}` and `{type:'profile-stop', path}` →
 * `{type:'profiled'}` (a CPU profile of the window, bench/cpu-profile.ts); `{type:'stop'}`.
 */
import { followHost, type HostFollower } from '../src/agent/protocol/follow-host.js';
import { startCpuProfile } from './cpu-profile.js';

interface Start {
  type: 'start';
  url: string;
  agents: { host: string; token: string }[];
  transport?: 'websocket' | 'ndjson';
}
type Profile = { type: 'profile' } | { type: 'profile-stop'; path: string };

const followers: HostFollower[] = [];
const send = (msg: unknown) => process.send?.(msg);

async function start(msg: Start): Promise<void> {
  const batch = 250;
  for (let i = 0; i < msg.agents.length; i += batch) {
    const ready: Promise<void>[] = [];
    for (const [j, a] of msg.agents.slice(i, i + batch).entries()) {
      const idx = i + j;
      const f = followHost({
        servers: [msg.url],
        host: a.host,
        token: a.token,
        underlayIp: `192.0.${(idx >> 8) & 255}.${idx & 255}`,
        heartbeatTimeoutMs: 60_000,
        ...(msg.transport ? { transport: msg.transport } : {}),
      });
      followers.push(f);
      ready.push(f.ready);
    }
    await Promise.all(ready);
  }
  send({ type: 'ready', rssMb: process.memoryUsage().rss / 2 ** 20 });
}

let stopProfile: ((path: string) => Promise<void>) | undefined;

process.on('message', (msg: Start | Profile | { type: 'stop' }) => {
  if (msg.type === 'start') void start(msg);
  else if (msg.type === 'profile')
    void startCpuProfile().then((stop) => {
      stopProfile = stop;
      send({ type: 'profiling' });
    });
  else if (msg.type === 'profile-stop')
    void stopProfile?.(msg.path).then(() => send({ type: 'profiled' }));
  else if (msg.type === 'stop')
    void Promise.all(followers.map((f) => f.stop())).then(() => process.exit(0));
});
