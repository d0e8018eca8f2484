/**
 * In-process micro-harness for issue #11's identity-changing write (no store, no HTTP):
 * an engine at ~6,000 records takes `fresh` tag writes (a new identity joining
 * `env == "dev"`, a rule peer of every tenth policy), and for each write the engine
 * delta → host view delta → HostFeed step → every host's next message (side patches)
 * runs as the manager runs it. Reports CPU per write, bytes allocated per write (from
 * the collector's before/after heap sizes, v8.GCProfiler) and the time of each stage.
 *
 * Usage: `npx tsx bench/feed-alloc.ts [writes=300] [records=6000] [policies=300]`;
 * `VNP_BENCH_PROFILE=DIR` writes a CPU profile and an allocation-sampling profile of
 * the measured writes to DIR.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Engine } from '../src/engine/index.js';
import { HostFeed } from '../src/server/distribution/host-feed.js';
import type { ChangeRecord } from '../src/store/index.js';
import { startCpuProfile } from './cpu-profile.js';
import { generateModel } from './generate.js';
import { percentile } from './measure.js';

const [writes, records, policies] = process.argv.slice(2).map(Number) as [
  number?,
  number?,
  number?,
];
const W = writes || 300;
const model = generateModel({ policies: policies || 300, records: records || 6000, flows: 1 });
const engine = new Engine();
let now = Date.parse('2026-01-01T00:00:00Z');
engine.load(model.documents, now);
engine.takeIdentityChanges();
const feed = new HostFeed(() => engine);
let revision = 1;
feed.reset(revision, engine.hostDelta());
const hosts = [...new Set(engine.list('Instance').map((i) => (i as { host: string }).host))];

const stage = { apply: 0, hostDelta: 0, feed: 0, messages: 0 };
const totals: number[] = [];
let bytes = 0;

/** One identity-changing write through the engine and the feed; every stage timed. */
function write(i: number, timed: boolean): void {
  const rec = model.records[(i * 7919) % model.records.length]!;
  const tags = { ...rec.tags, app: `fresh${i}`, env: 'dev' };
  now += 10;
  const t0 = performance.now();
  const delta = engine.apply([{ op: 'put', doc: { kind: 'Interface', ...rec, tags } }], now);
  const t1 = performance.now();
  const view = engine.hostDelta(delta);
  const t2 = performance.now();
  revision++;
  const record = { revision, at: new Date(now).toISOString() } as ChangeRecord;
  feed.onRecord(record, view);
  const t3 = performance.now();
  let b = 0;
  for (const h of hosts) {
    const m = feed.nextMessage(h, feed.head - 1, { sidePatches: true });
    if (m.kind === 'delta') b += m.json.length;
  }
  const t4 = performance.now();
  engine.takeIdentityChanges();
  if (!timed) return;
  stage.apply += t1 - t0;
  stage.hostDelta += t2 - t1;
  stage.feed += t3 - t2;
  stage.messages += t4 - t3;
  totals.push(t4 - t0);
  bytes += b;
}

for (let i = 0; i < 30; i++) write(i, false);
const profileDir = process.env['VNP_BENCH_PROFILE'];
let stopCpu: ((path: string) => Promise<void>) | undefined;
let heap: Session | undefined;
if (profileDir) {
  stopCpu = await startCpuProfile();
  heap = new Session();
  heap.connect();
  await heap.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const gcp = new v8.GCProfiler();
gcp.start();
const heapAt0 = v8.getHeapStatistics().used_heap_size;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let i = 30; i < 30 + W; i++) write(i, true);
const wall = performance.now() - wall0;
const cpu = process.cpuUsage(cpu0);
const heapAt1 = v8.getHeapStatistics().used_heap_size;
const gc = gcp.stop();
// Bytes allocated = growth between collections + what each collection freed.
let allocated = heapAt1 - heapAt0;
let gcMs = 0;
for (const s of gc.statistics) {
  allocated += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  gcMs += s.cost / 1000;
}
if (profileDir) {
  await stopCpu!(join(profileDir, 'feed-alloc.cpuprofile'));
  const { profile } = await heap!.post('HeapProfiler.stopSampling');
  await writeFile(join(profileDir, 'feed-alloc.heapprofile'), JSON.stringify(profile));
}
const f = (x: number): string => x.toFixed(3);
console.log(
  JSON.stringify({
    writes: W,
    records: model.records.length,
    hosts: hosts.length,
    cpuMsPerWrite: f((cpu.user + cpu.system) / 1000 / W),
    wallMsPerWrite: f(wall / W),
    kBAllocatedPerWrite: f(allocated / 1024 / W),
    gcMsPerWrite: f(gcMs / W),
    gcs: gc.statistics.length,
    p50: f(percentile(totals, 50)),
    p99: f(percentile(totals, 99)),
    stageMsPerWrite: Object.fromEntries(Object.entries(stage).map(([k, v]) => [k, f(v / W)])),
    messageBytesPerWrite: Math.round(bytes / W),
  }),
);
