/**
 * Denied attempts in the audit log (issue #11, docs/security.md "Denied attempts"):
 * every 401 and 403 answer becomes a change-log entry (so it is part of the hash
 * chain and shows in `GET /v1/audit` / `vnp audit`), naming who (the principal, or
 * the token id a refused token claimed), what (method and path), why, and from where.
 *
 * A flood must not fill the store: per source (client address + token id) at most
 * `limit.max` entries per window, and at most {@link GLOBAL_FACTOR}× that for all
 * sources together (many addresses). Everything over either bucket is only counted,
 * and one `denied.suppressed` entry per window says how many, of which kind, from how
 * many sources and the busiest ones. Entries are written after the answer is sent:
 * a refused client never waits on the store.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimit } from '../config/settings.js';
import { formatDuration } from '../model/duration.js';
import { actorOf } from './auth.js';
import { toVnpError } from './error-handler.js';
import { parseToken } from './token-secret.js';

/** One refused request, as recorded. */
export interface DeniedAttempt {
  status: number;
  /** `role:id` of a verified principal (a 403), else `anonymous`. */
  actor: string;
  /** The token id a refused token claimed (unverified), when it had one. */
  claimedId?: string;
  method: string;
  path: string;
  reason: string;
  from: string;
}

/** What denials are written with (Manager.audit). */
export type AuditWriter = (ctx: { actor: string; action: string }) => Promise<unknown>;

/** All sources together may write this many times one source's limit per window. */
export const GLOBAL_FACTOR = 4;
/** Sources tracked per window; further ones are only counted (memory stays bounded). */
const MAX_SOURCES = 10_000;
/** Longest path and reason kept in an entry. */
const MAX_TEXT = 160;

interface Suppressed {
  total: number;
  byStatus: Map<number, number>;
  bySource: Map<string, number>;
}

/**
 * Printable ASCII only, bounded: paths and reasons can carry what a client sent.
 *
 * @example clean('/v1/a\u0000b', 160) // '/v1/a?b'
 */
function clean(text: string, max: number): string {
  const s = text.replace(/[^\x20-\x7e]/g, '?');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/**
 * The audit action of one denied attempt.
 *
 * @example
 *   deniedAction({ status: 403, actor: 'viewer:ab', method: 'POST', path: '/v1/apply',
 *     reason: 'role viewer may not POST /v1/apply', from: '10.0.0.9' })
 *   // 'denied 403 POST /v1/apply from 10.0.0.9: role viewer may not POST /v1/apply'
 */
export function deniedAction(a: DeniedAttempt): string {
  const token = a.claimedId !== undefined ? ` token ${a.claimedId}` : '';
  return `denied ${a.status} ${a.method} ${clean(a.path, MAX_TEXT)} from ${a.from}${token}: ${clean(a.reason, MAX_TEXT)}`;
}

/** Rate-limited recorder of denied attempts (one per manager). */
export class DeniedAudit {
  private windowStart: number;
  private perSource = new Map<string, number>();
  private written = 0;
  private suppressed: Suppressed = emptySuppressed();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * @example
   *   const denials = new DeniedAudit((ctx) => manager.audit(ctx), Date.now, { max: 5, windowMs: 60_000 });
   */
  constructor(
    private readonly write: AuditWriter,
    private readonly now: () => number,
    private readonly limit: RateLimit,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.windowStart = now();
  }

  /** Record one denied attempt, or count it when its source or everyone is over the limit. */
  note(a: DeniedAttempt): void {
    this.rollIfDue();
    const source = `${a.from} ${a.claimedId ?? a.actor}`;
    const seen = this.perSource.get(source);
    const tracked = seen !== undefined || this.perSource.size < MAX_SOURCES;
    const overGlobal = this.written >= this.limit.max * GLOBAL_FACTOR;
    if (!tracked || overGlobal || (seen ?? 0) >= this.limit.max) {
      if (tracked) this.perSource.set(source, (seen ?? 0) + 1);
      this.count(a, source);
      return;
    }
    this.perSource.set(source, (seen ?? 0) + 1);
    this.written++;
    this.track(this.write({ actor: a.actor, action: deniedAction(a) }));
  }

  /** Every entry noted so far is written (tests; close). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Write the summary of what was suppressed (if anything) and stop the timer. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.roll();
    await this.settled();
  }

  private count(a: DeniedAttempt, source: string): void {
    const suppressed = this.suppressed;
    suppressed.total++;
    suppressed.byStatus.set(a.status, (suppressed.byStatus.get(a.status) ?? 0) + 1);
    if (suppressed.bySource.has(source) || suppressed.bySource.size < MAX_SOURCES)
      suppressed.bySource.set(source, (suppressed.bySource.get(source) ?? 0) + 1);
    // A flood that stops mid-window still gets its summary when the window ends.
    if (!this.timer) {
      const left = Math.max(0, this.windowStart + this.limit.windowMs - this.now());
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.rollIfDue(true);
      }, left);
      this.timer.unref();
    }
  }

  private rollIfDue(force = false): void {
    if (force || this.now() - this.windowStart >= this.limit.windowMs) this.roll();
  }

  /** End the window: write its suppression summary, start counting afresh. */
  private roll(): void {
    const suppressed = this.suppressed;
    this.windowStart = this.now();
    this.perSource = new Map();
    this.written = 0;
    this.suppressed = emptySuppressed();
    if (suppressed.total > 0)
      this.track(this.write({ actor: 'system', action: suppressedAction(suppressed, this.limit) }));
  }

  private track(p: Promise<unknown>): void {
    const done: Promise<void> = p.then(
      () => undefined,
      (err: unknown) => this.onError(err),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}

function emptySuppressed(): Suppressed {
  return { total: 0, byStatus: new Map(), bySource: new Map() };
}

/**
 * @example
 *   // 'denied.suppressed 120 further denied attempts (401: 120) from 1 source in 1m (limit 5 per source); most: 10.0.0.9 - (120)'
 */
function suppressedAction(suppressed: Suppressed, limit: RateLimit): string {
  const statuses = [...suppressed.byStatus].map(([k, v]) => `${k}: ${v}`).join(', ');
  const top = [...suppressed.bySource]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k, v]) => `${k} (${v})`)
    .join(', ');
  const n = suppressed.bySource.size;
  return (
    `denied.suppressed ${suppressed.total} further denied attempts (${statuses}) from ${n} source${n === 1 ? '' : 's'}` +
    ` in ${formatDuration(limit.windowMs)} (limit ${limit.max} per source); most: ${top}`
  );
}

const kReason = Symbol('vnp.deniedReason');
type WithReason = FastifyRequest & { [kReason]?: string };

/** The denied attempt a request was, from its answer's status and the error it raised. */
function attemptOf(request: FastifyRequest, status: number): DeniedAttempt {
  const header = request.headers.authorization;
  const presented = header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  const claimedId = request.principal ? undefined : presented && parseToken(presented)?.id;
  return {
    status,
    actor: request.principal ? actorOf(request.principal) : 'anonymous',
    ...(claimedId ? { claimedId } : {}),
    method: request.method,
    path: request.url.split('?')[0] ?? '/',
    reason: (request as WithReason)[kReason] ?? `status ${status}`,
    from: clean(request.ip ?? 'unknown', 64),
  };
}

/**
 * Record every 401 and 403 answer of `app` (after it is sent). Returns the recorder,
 * closed with the app (its last summary is written then).
 *
 * @example
 *   const denials = installDeniedAudit(app, (ctx) => manager.audit(ctx), now, settings.deniedAuditLimit);
 */
export function installDeniedAudit(
  app: FastifyInstance,
  write: AuditWriter,
  now: () => number,
  limit: RateLimit,
): DeniedAudit {
  const denials = new DeniedAudit(write, now, limit, (err) =>
    app.log.warn({ err }, 'recording a denied attempt failed'),
  );
  app.addHook('onError', async (request, _reply, err) => {
    (request as WithReason)[kReason] = toVnpError(err, String(request.id)).message;
  });
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    if (status === 401 || status === 403) denials.note(attemptOf(request, status));
  });
  app.addHook('onClose', async () => denials.close());
  return denials;
}
