/**
 * Wires the agent protocol into a manager app: the shared {@link HostFeed}, the
 * convergence metrics and the `?wait=` hook on writes (docs/protocol.md).
 *
 * Invariants:
 * - one Distribution per PepRegistry (hence per app), created on first use;
 * - the feed is built from the model on first use (a host's first stream or snapshot,
 *   or a write with `?wait=`), not at start: with many records it costs about as
 *   much as loading the engine, and a manager no agent talks to never needs it. Once
 *   built it follows every record the manager applies, in order, synchronously; a
 *   stream resuming from before it was built gets a snapshot (docs/protocol.md);
 * - `?wait=` only ever delays a successful write's answer: the write is durable
 *   before the wait starts, and a timeout answers 504 VNP_ERR_TIMEOUT naming the laggards.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, Histogram, Registry } from 'prom-client';
import { VnpError } from '../../model/errors.js';
import type { Manager } from '../manager.js';
import { HostFeed } from './host-feed.js';
import type { PepRegistry } from './pep-registry.js';

/** The protocol's shared parts for one manager. */
export class Distribution {
  readonly registry = new Registry();
  /** The feed, built or not (see `feed`). */
  private readonly hostFeed: HostFeed;
  /** The manager loaded its model (onReady): the feed may be built from it. */
  private started = false;
  /** The feed mirrors the model (built on first use after start). */
  private built = false;
  private underlayTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly manager: Manager,
    readonly peps: PepRegistry,
  ) {
    this.hostFeed = new HostFeed(() => manager.engine, {
      underlayOf: (h) => peps.underlayOf(h),
      settled: () => manager.settled(),
    });
    const ackSeconds = new Histogram({
      name: 'vnp_change_ack_seconds',
      help: 'Time from a change commit to its acknowledgement by a PEP it concerns (one observation per PEP and revision)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    new Gauge({
      name: 'vnp_peps_connected',
      help: 'PEPs with an open watch stream on this manager',
      registers: [this.registry],
      collect: function (this: Gauge) {
        this.set(peps.connected().length);
      },
    });
    const oldest = (): number => {
      let min = 0;
      for (const h of peps.connected()) {
        const applied = peps.appliedOf(h);
        if (applied < manager.revision && (min === 0 || applied + 1 < min)) min = applied + 1;
      }
      return min;
    };
    new Gauge({
      name: 'vnp_pep_oldest_unacked_revision',
      help: 'Oldest revision some connected PEP has not acknowledged (0: every connected PEP is current)',
      registers: [this.registry],
      collect: function (this: Gauge) {
        this.set(oldest());
      },
    });
    const feed = this.hostFeed;
    new Gauge({
      name: 'vnp_pep_oldest_unacked_seconds',
      help: 'Age of the oldest unacknowledged revision (0 when every connected PEP is current)',
      registers: [this.registry],
      collect: function (this: Gauge) {
        const rev = oldest();
        const at = rev === 0 ? undefined : feed.stepOf(rev)?.at;
        this.set(at === undefined || Number.isNaN(at) ? 0 : Math.max(0, Date.now() - at) / 1000);
      },
    });
    peps.onAck((host, from, to) => {
      const now = Date.now();
      // At most 65 steps, counted by `i`, not by `rev`: `rev++` stalls above 2^53, so a
      // loop bounded by a revision alone could spin forever on a huge one.
      const first = Math.max(from + 1, to - 64);
      for (let i = 0, rev = first; i <= 64 && rev <= to; i++, rev = first + i) {
        const step = this.hostFeed.stepOf(rev);
        if (!step || Number.isNaN(step.at)) continue;
        if (step.hosts !== 'all' && !step.hosts.has(host)) continue;
        ackSeconds.observe(Math.max(0, now - step.at) / 1000);
      }
    });
    // Agents (re)connecting in a burst report their underlay addresses: one step for
    // the burst rather than one message per agent to every stream.
    const underlays = new Set<string>();
    let underlayTimer: ReturnType<typeof setTimeout> | undefined;
    peps.onUnderlayChange((host, reported) => {
      // Other managers learn it from the database (see start()).
      const ip = peps.underlayOf(host);
      if (reported && ip !== undefined)
        void manager.store.putUnderlay(host, ip, new Date().toISOString()).catch(() => undefined);
      underlays.add(host);
      underlayTimer ??= setTimeout(() => {
        underlayTimer = undefined;
        const hosts = [...underlays];
        underlays.clear();
        if (this.built) this.hostFeed.onUnderlayChange(hosts);
      }, 20);
    });
    manager.onRecord((record, delta) => {
      if (this.built) this.hostFeed.onRecord(record, manager.engine.hostDelta(delta));
    });
    // The model was rebuilt (identity resync): streams get snapshots.
    manager.onReload(() => {
      if (this.built) this.hostFeed.reset(manager.revision, manager.engine.hostDelta());
    });
  }

  /**
   * The shared feed, built from the model at the manager's revision on first use:
   * every step after that is kept, so whoever asks for it gets a correct snapshot
   * and every later delta.
   */
  get feed(): HostFeed {
    if (!this.built) {
      this.built = true;
      this.hostFeed.reset(this.manager.revision, this.manager.engine.hostDelta());
    }
    return this.hostFeed;
  }

  /**
   * Mark the model loaded (after Manager.start; the feed is built on first use); learn the underlay
   * addresses PEPs reported to any manager, and keep learning them when the database
   * is shared (PostgreSQL) every `underlaySyncMs`.
   */
  async start(underlaySyncMs = 2000): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.syncUnderlays();
    if (this.manager.store.shared) {
      this.underlayTimer = setInterval(() => void this.syncUnderlays(), underlaySyncMs);
      this.underlayTimer.unref();
    }
  }

  /** Stop following the database. */
  stop(): void {
    clearInterval(this.underlayTimer);
  }

  private async syncUnderlays(): Promise<void> {
    const store = this.manager.store;
    try {
      for (const { host, underlay } of await store.listUnderlays())
        this.peps.learnUnderlay(host, underlay);
    } catch {
      /* the next round retries; remotes keep the addresses known so far */
    }
  }
}

const byPeps = new WeakMap<PepRegistry, Distribution>();
const byManager = new WeakMap<Manager, Distribution>();

/**
 * The app's Distribution (created on first call).
 *
 * @example const { feed } = distributionFor(manager, peps);
 */
export function distributionFor(manager: Manager, peps: PepRegistry): Distribution {
  let d = byPeps.get(peps);
  if (!d) {
    byPeps.set(peps, (d = new Distribution(manager, peps)));
    byManager.set(manager, d);
  }
  return d;
}

/**
 * The Distribution serving a manager's app, if its host routes are registered
 * (benchmarks observe acknowledgements where the manager accepts them).
 *
 * @example distributionOf(built.manager)?.peps.onAck((host, from, to) => …);
 */
export function distributionOf(manager: Manager): Distribution | undefined {
  return byManager.get(manager);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
const MAX_WAIT_MS = 300_000;

/**
 * Parse a wait duration: `5s`, `500ms`, `1m`, or a bare number of seconds.
 *
 * @example parseWait('5s') // 5000
 */
function parseWait(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2] ?? 's']! : Number.NaN;
  if (!m || !Number.isFinite(ms) || ms < 0 || ms > MAX_WAIT_MS) {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `wait: expected a duration like 5s, 500ms or 1m (at most 5m), got ${JSON.stringify(text)}`,
      { field: 'wait' },
    );
  }
  return ms;
}

const kWait = Symbol('vnp.wait');
interface WaitState {
  ms: number;
  startRevision: number;
}
type WithWait = FastifyRequest & { [kWait]?: WaitState };

/**
 * Global hooks: `?wait=DURATION` on any write (POST/PUT/PATCH/DELETE) waits for the
 * acknowledgements of the PEPs the write concerns and adds `waited: {ms, hosts}` to
 * a JSON object answer; and the protocol metrics appended to `/metrics`.
 *
 * @example installDistributionHooks(app, distributionFor(manager, peps));
 */
export function installDistributionHooks(app: FastifyInstance, d: Distribution): void {
  app.addHook('onReady', async () => d.start());
  app.addHook('onClose', async () => d.stop());
  // Callback-style hooks: they run on every request, and most have nothing to do.
  app.addHook('preHandler', (request, _reply, done) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method)) return done();
    const wait = (request.query as Record<string, unknown> | undefined)?.wait;
    if (typeof wait !== 'string') return done();
    let ms: number;
    try {
      ms = parseWait(wait);
    } catch (err) {
      return done(err as Error);
    }
    // The feed tells which hosts the write concerns: it must exist before the write,
    // and be built from committed state (a write does not wait for the group in flight).
    d.manager.committed().then(
      () => {
        void d.feed;
        (request as WithWait)[kWait] = { ms, startRevision: d.manager.revision };
        done();
      },
      (err: unknown) => done(err as Error),
    );
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const w = (request as WithWait)[kWait];
    if (request.routeOptions.url === '/metrics' && typeof payload === 'string') {
      d.registry.metrics().then(
        (text) => done(null, payload + text),
        (err: unknown) => done(err as Error),
      );
      return;
    }
    if (!w || reply.statusCode >= 300 || typeof payload !== 'string') return done(null, payload);
    waitAnswer(d, w, reply, payload).then(
      (out) => done(null, out),
      (err: unknown) => done(err as Error),
    );
  });
}

/**
 * The hosts a change concerns ('all': every host an instance names) that have no PEP
 * connected to this manager: nothing there acknowledges or enforces it yet, and a
 * wait that reported "enforced" without naming them would mislead.
 */
function unconnectedHosts(d: Distribution, hosts: Set<string> | 'all'): string[] {
  const concerned =
    hosts === 'all'
      ? new Set(d.manager.engine.list('Instance').map((i) => (i as { host: string }).host))
      : hosts;
  const connected = new Set(d.peps.connected());
  return [...concerned].filter((h) => !connected.has(h)).sort();
}

/** The answer of a write with `?wait=`: augmented with `waited`, or a 504. */
async function waitAnswer(
  d: Distribution,
  w: WaitState,
  reply: FastifyReply,
  payload: string,
): Promise<string> {
  const end = d.manager.revision;
  const hosts =
    end > w.startRevision ? d.feed.hostsBetween(w.startRevision, end) : new Set<string>();
  const r = await d.peps.waitFor(end, hosts, w.ms);
  // It reads the model's instances: committed state only.
  await d.manager.committed();
  const unconnected = unconnectedHosts(d, hosts);
  if (r.laggards.length > 0) {
    void reply.code(504);
    const err = new VnpError(
      'VNP_ERR_TIMEOUT',
      `${r.laggards.length} of ${r.hosts.length} PEPs did not acknowledge revision ${end} within ${w.ms} ms: ${r.laggards.slice(0, 20).join(', ')}`,
      { revision: end, laggards: r.laggards, waited: { ms: r.ms, hosts: r.hosts.length } },
    );
    return JSON.stringify(err.toJSON());
  }
  try {
    const body = JSON.parse(payload) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body))
      return JSON.stringify({
        ...body,
        waited: { ms: r.ms, hosts: r.hosts.length, unconnected },
      });
  } catch {
    /* not JSON: leave it */
  }
  return payload;
}
