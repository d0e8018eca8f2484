/**
 * Tag change → feed step ready through a real Manager on PGlite at scale: the server
 * path around the engine (commit, apply, the shared host feed, identity claim) must
 * cost in proportion to the change, not to the model (design.md §6). Measured at two
 * model sizes so a per-write cost that grows with records shows as a ratio.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HostFeed } from '../src/server/distribution/host-feed.js';
import { Manager } from '../src/server/manager.js';
import { openStore } from '../src/store/open-store.js';
import { startCpuProfile } from './cpu-profile.js';
import { generateModel } from './generate.js';
import { percentile } from './measure.js';
import type { RunOptions } from './run.js';

/**
 * What each measured write does to its record: `move` to another existing app (a new
 * identity for the record, usually an existing one), `fresh` to an app no record has, in
 * env dev (a brand-new identity that joins `env == "dev"`, a rule peer of every tenth
 * policy: the sides of those policies' identities change — issue #11's slow case), or
 * `tier` (a tag no selector reads: no identity change, the baseline).
 */
export type FeedStepKind = 'move' | 'fresh' | 'tier';

/** One model size's figures. */
export interface FeedStepRow {
  kind: FeedStepKind;
  records: number;
  policies: number;
  changes: number;
  /** Seconds to commit and load the model (setup, not measured). */
  setupS: number;
  p50: number;
  p99: number;
  max: number;
  /** Process CPU (user + system, every thread: the collector's too) per measured write, ms. */
  cpuMs: number;
  /** Bytes of the messages to every host per write: side patches (mean), whole sides (the last write). */
  bytesPatched: number;
  bytesWhole: number;
}

/**
 * `changes` tag changes back to back (each moves one record to another app: a new
 * identity for it, an ipcache change every PEP receives), timed from the write call
 * until the feed's step is there and every host's next message (side patches, as the
 * agents take them) is built. With `VNP_BENCH_PROFILE=DIR`, the measured writes are
 * CPU-profiled to DIR/feed-step-<records>.cpuprofile.
 */
export async function feedStepLatency(
  opts: RunOptions,
  records: number,
  policies: number,
  changes: number,
  kind: FeedStepKind = 'move',
): Promise<FeedStepRow> {
  const dir = await mkdtemp(join(tmpdir(), 'vnp-bench-feed-'));
  const store = await openStore({ dataDir: dir });
  try {
    const t0 = performance.now();
    const model = generateModel({ policies, records, flows: 1 });
    const manager = new Manager({ store });
    await manager.start();
    await manager.write({ actor: 'bench', action: 'load' }, () => ({
      changes: model.documents.map((doc) => ({ op: 'put' as const, doc })),
      result: undefined,
    }));
    await manager.identitiesSettled();
    const feed = new HostFeed(() => manager.engine);
    feed.reset(manager.revision, manager.engine.hostDelta());
    manager.onRecord((r, d) => feed.onRecord(r, manager.engine.hostDelta(d)));
    let stepAt = 0;
    feed.onStep(() => (stepAt = performance.now()));
    const setupS = (performance.now() - t0) / 1000;
    const samples: number[] = [];
    const hosts = [
      ...new Set(manager.engine.list('Instance').map((i) => (i as { host: string }).host)),
    ];
    /** Every host's message after the newest step (what the streams would write), in bytes. */
    const messages = (sidePatches: boolean): number => {
      let bytes = 0;
      for (const h of hosts) {
        const m = feed.nextMessage(h, feed.head - 1, { sidePatches });
        if (m.kind === 'delta') bytes += m.json.length;
      }
      return bytes;
    };
    let bytesPatched = 0;
    let cpuMs = 0;
    const profileDir = process.env['VNP_BENCH_PROFILE'];
    let stop: ((path: string) => Promise<void>) | undefined;
    for (let i = 0; i < changes + 10; i++) {
      if (i === 10 && profileDir) stop = await startCpuProfile();
      const rec = model.records[(i * 7919) % model.records.length]!;
      const tags =
        kind === 'move'
          ? { ...rec.tags, app: `a${(i * 31) % policies}` }
          : kind === 'fresh'
            ? { ...rec.tags, app: `fresh${i}`, env: 'dev' }
            : { ...rec.tags, tier: `t${i}` };
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      await manager.write({ actor: 'bench', action: 'tag' }, () => ({
        changes: [{ op: 'put', doc: { kind: 'Interface', ...rec, tags } }],
        result: undefined,
      }));
      if (stepAt < start && kind !== 'tier') throw new Error(`change ${i} made no feed step`);
      const patched = messages(true);
      const end = performance.now();
      const cpu = process.cpuUsage(cpu0);
      // Back to back: the previous write's identity claim may still hold the store.
      if (i >= 10) {
        cpuMs += (cpu.user + cpu.system) / 1000 / changes;
        samples.push(end - start); // warm-up
        bytesPatched += patched / changes;
      }
    }
    // Whole sides (readers without side patches) after the last write, for the bytes
    // only: not timed, and not during the timed writes (its garbage would be).
    const bytesWhole = messages(false);
    if (stop) await stop(join(profileDir!, `feed-step-${kind}-${records}.cpuprofile`));
    await manager.close();
    opts.log(
      `  feed step (${kind}): ${changes} tag changes on ${records} records, ${policies} policies`,
    );
    return {
      kind,
      records,
      policies,
      changes,
      setupS,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: Math.max(...samples),
      cpuMs,
      bytesPatched,
      bytesWhole,
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
