/**
 * One agent watch stream (docs/protocol.md): a snapshot or a resume position, then
 * a delta per step of the shared feed, heartbeats in between — over any transport
 * that can say "backed up" (a {@link HostSink}: NDJSON on an HTTP response, or
 * WebSocket text frames).
 *
 * Invariants:
 * - the stream holds no pending data of its own, only its feed position: a message is
 *   built when the sink can take it, so while it is backed up every new step
 *   coalesces into the next message (memory per connection is O(1) plus one message);
 * - a stream stuck behind backpressure for `stallMs` is a dead reader: it is closed;
 * - heartbeats are only written when the sink is not backed up and nothing else was
 *   written for half a period (at 10,000 streams they are a syscall each).
 */
import type { Writable } from 'node:stream';
import type { HostFeed } from './host-feed.js';

/** Where a stream's messages go. */
export interface HostSink {
  /** Write one message (JSON text without line end); false: backed up, wait for onDrain. */
  send(text: string): boolean;
  /** Call `cb` once when a backed-up sink can take more. */
  onceDrain(cb: () => void): void;
  /** Call `cb` once when the connection ends (either side, or an error). */
  onClose(cb: () => void): void;
  readonly destroyed: boolean;
  /** Drop the connection. */
  destroy(): void;
}

/**
 * An NDJSON sink over a writable (the raw HTTP response): one line per message.
 *
 * @example serveHostStream({ feed, host, sink: ndjsonSink(reply.raw) });
 */
export function ndjsonSink(out: Writable): HostSink {
  return {
    send: (text) => out.write(text + '\n'),
    onceDrain: (cb) => void out.once('drain', cb),
    onClose: (cb) => {
      out.on('close', cb);
      out.on('error', cb);
    },
    // Ended (e.g. its token revoked): nothing more may be written.
    get destroyed() {
      return out.destroyed || out.writableEnded;
    },
    destroy: () => void out.destroy(),
  };
}

/** Settings of {@link serveHostStream}. */
export interface HostStreamOptions {
  feed: HostFeed;
  host: string;
  /** Where the messages go. */
  sink: HostSink;
  /** The PEP's last applied revision (`?since=`); absent: start with a snapshot. */
  since?: number;
  /** Heartbeat period (default 5000 ms). */
  heartbeatMs?: number;
  /** Backpressure this long closes the stream (default 60000 ms). */
  stallMs?: number;
  /** Told of the revision of every message written, and of the position a resume starts at. */
  onSent?: (revision: number) => void;
  /** Called once when the stream ends. */
  onClose?: () => void;
  /** The reader folds side patches (it sent `vnp-features: side-patches`). */
  sidePatches?: boolean;
}

/**
 * Serve one stream until the connection closes.
 *
 * @example
 *   serveHostStream({ feed, host: 'h1', sink: ndjsonSink(reply.raw), since: 41, onSent: (r) => peps.sent('h1', r) });
 */
export function serveHostStream(opts: HostStreamOptions): void {
  new HostStream(opts).start();
}

/** One stream's position in the feed and its sink's state. */
class HostStream {
  private readonly feed: HostFeed;
  private readonly host: string;
  private readonly out: HostSink;
  private seq: number;
  /** Resuming from a revision this manager has not reached yet. */
  private waitingSince: number | undefined;
  /** The sink backed up at this time (ms). */
  private blockedAt: number | undefined;
  private scheduled = false;
  private closed = false;
  private lastWriteAt = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;
  private offStep: () => void = () => undefined;

  constructor(private readonly opts: HostStreamOptions) {
    this.feed = opts.feed;
    this.host = opts.host;
    this.out = opts.sink;
    this.seq = opts.feed.head;
  }

  /** Subscribe, arm the heartbeat, and send the first message (or take the resume position). */
  start(): void {
    // The first message may be a snapshot, read from the model: not while it holds a
    // group commit that is not durable yet.
    const busy = this.feed.settled();
    if (busy) {
      // A connection gone meanwhile ends the stream (its owner's cleanup runs once).
      void busy.then(() => (this.out.destroyed ? this.close() : this.start()));
      return;
    }
    this.seq = this.feed.head;
    this.offStep = this.feed.onStep(this.schedule);
    const heartbeatMs = this.opts.heartbeatMs ?? 5000;
    this.timer = setInterval(() => this.tick(heartbeatMs), heartbeatMs);
    this.timer.unref();
    this.out.onClose(this.close);
    const since = this.opts.since;
    if (since === undefined) return this.sendSnapshot();
    const p = this.feed.positionFor(since);
    if (p === 'snapshot') this.sendSnapshot();
    else if (p === 'future') this.waitingSince = since;
    else {
      // Resumed: both sides stand at `since` (the PEP applied it, this manager holds
      // what follows), as if it had been sent here; the PEP's first ack may name it.
      this.seq = p;
      this.opts.onSent?.(since);
      this.flush();
    }
  }

  private write(text: string, revision?: number): void {
    const ok = this.out.send(text);
    this.lastWriteAt = Date.now();
    if (revision !== undefined) this.opts.onSent?.(revision);
    if (!ok) {
      this.blockedAt = this.lastWriteAt;
      this.out.onceDrain(() => {
        this.blockedAt = undefined;
        this.flush();
      });
    }
  }

  private sendSnapshot(): void {
    const state = this.feed.snapshot(this.host);
    this.seq = this.feed.head;
    this.write(JSON.stringify({ type: 'snapshot', state }), state.revision);
  }

  /** Write what the stream lacks, if the sink can take it. */
  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.blockedAt !== undefined || this.out.destroyed) return;
    // A snapshot reads the model: wait while it holds a group commit not durable yet
    // (flushes scheduled by a step run before the next group; a drain may come any time).
    const busy = this.feed.settled();
    if (busy) {
      this.scheduled = true;
      void busy.then(() => this.flush());
      return;
    }
    if (this.waitingSince !== undefined) {
      const p = this.feed.futurePosition(this.waitingSince);
      if (p === undefined) return;
      this.seq = p;
      this.opts.onSent?.(this.waitingSince);
      this.waitingSince = undefined;
    }
    const r = this.feed.nextMessage(this.host, this.seq, {
      sidePatches: this.opts.sidePatches === true,
    });
    if (r.kind === 'none') return;
    this.seq = r.seq;
    if (r.kind === 'snapshot')
      this.write(JSON.stringify({ type: 'snapshot', state: r.state }), r.state.revision);
    else this.write(r.json, r.to);
  }

  private readonly schedule = (): void => {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush()); // a burst of steps becomes one message
  };

  /** Heartbeat period: close a stalled stream, fill a silence. */
  private tick(heartbeatMs: number): void {
    if (this.blockedAt !== undefined) {
      if (Date.now() - this.blockedAt >= (this.opts.stallMs ?? 60_000)) this.out.destroy();
      return;
    }
    // Any message proves the connection alive: heartbeats only fill silences.
    if (!this.out.destroyed && Date.now() - this.lastWriteAt >= heartbeatMs / 2)
      this.write(`{"type":"heartbeat","revision":${this.feed.revision}}`);
  }

  private readonly close = (): void => {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.offStep();
    this.opts.onClose?.();
  };
}
