/**
 * Impact previews off the write path (issue 11, High 4): a preview runs on its own
 * snapshot of the model (two forks taken in one synchronous step, so they agree with
 * one revision), gives the event loop a turn every few milliseconds, and previews
 * run one at a time per manager with a short queue, so a viewer can neither stall
 * the manager nor pile up snapshots in memory.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine/index.js';
import { impactSteps, type ImpactOptions, type ImpactPreview } from '../engine/index.js';
import type { Change } from '../engine/index.js';
import { VnpError } from '../model/errors.js';
import { Mutex } from './mutex.js';

/** Most documents (puts) plus deletes one preview takes (`POST /v1/impact`). */
export const IMPACT_MAX_CHANGES = 1000;
/** Most rows one preview page returns. */
export const IMPACT_MAX_LIMIT = 5000;
/** Previews waiting behind the running one before more are refused (429). */
export const IMPACT_MAX_WAITING = 4;
/** Longest the preview computes before it gives the event loop a turn. */
const SLICE_MS = 5;

/** The model before and after a batch, frozen for one preview. */
export interface ImpactSnapshot {
  before: Engine;
  after: Engine;
}

/**
 * Fork the model before and after `changes` (synchronously: both reflect the same
 * revision, whatever writes come later).
 *
 * @example const snap = snapshotForImpact(manager.engine, changes, manager.now());
 */
export function snapshotForImpact(engine: Engine, changes: Change[], now: number): ImpactSnapshot {
  const before = engine.fork();
  const after = engine.fork();
  after.apply(changes, now);
  return { before, after };
}

/** Runs previews one at a time, in slices; see the file comment. */
export class ImpactRunner {
  private readonly lock = new Mutex();
  private waiting = 0;

  /**
   * Preview the snapshot `take` returns (called once this preview's turn comes, so
   * queued previews hold no snapshot). Refuses with VNP_ERR_RATE_LIMITED when
   * IMPACT_MAX_WAITING previews already wait.
   *
   * @example await runner.preview(() => snapshotForImpact(engine, changes, now), { limit: 100 });
   */
  async preview(take: () => ImpactSnapshot, opts: ImpactOptions): Promise<ImpactPreview> {
    if (this.waiting >= IMPACT_MAX_WAITING) {
      throw new VnpError(
        'VNP_ERR_RATE_LIMITED',
        `${this.waiting} impact previews are already waiting; retry later`,
        { waiting: this.waiting },
      );
    }
    this.waiting++;
    return this.lock.run(async () => {
      this.waiting--;
      const { before, after } = take();
      await turn();
      const steps = impactSteps(before, after, opts);
      let sliceStart = performance.now();
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
        if (performance.now() - sliceStart >= SLICE_MS) {
          await turn();
          sliceStart = performance.now();
        }
      }
    });
  }
}

const runners = new WeakMap<object, ImpactRunner>();

/**
 * The preview runner of one manager (created on first use).
 *
 * @example await impactRunner(manager).preview(take, { limit: 100 });
 */
export function impactRunner(manager: object): ImpactRunner {
  let r = runners.get(manager);
  if (!r) runners.set(manager, (r = new ImpactRunner()));
  return r;
}
