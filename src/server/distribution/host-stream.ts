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
}

/**
 * Serve one stream until the connection closes.
 *
 * @example
 *   serveHostStream({ feed, host: 'h1', sink: ndjsonSink(reply.raw), since: 41, onSent: (r) => peps.sent('h1', r) });
 */
export function serveHostStream(opts: HostStreamOptions): void {
  const { feed, host } = opts;
  const out = opts.sink;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const stallMs = opts.stallMs ?? 60_000;
  let seq = feed.head;
  let waitingSince: number | undefined;
  let blockedAt: number | undefined;
  let scheduled = false;
  let closed = false;
  let lastWriteAt = Date.now();

  const write = (text: string, revision?: number): void => {
    const ok = out.send(text);
    lastWriteAt = Date.now();
    if (revision !== undefined) opts.onSent?.(revision);
    if (!ok) {
      blockedAt = lastWriteAt;
      out.onceDrain(() => {
        blockedAt = undefined;
        flush();
      });
    }
  };

  const sendSnapshot = (): void => {
    const state = feed.snapshot(host);
    seq = feed.head;
    write(JSON.stringify({ type: 'snapshot', state }), state.revision);
  };

  function flush(): void {
    scheduled = false;
    if (closed || blockedAt !== undefined || out.destroyed) return;
    if (waitingSince !== undefined) {
      const p = feed.futurePosition(waitingSince);
      if (p === undefined) return;
      seq = p;
      opts.onSent?.(waitingSince);
      waitingSince = undefined;
    }
    const r = feed.nextMessage(host, seq);
    if (r.kind === 'none') return;
    if (r.kind === 'snapshot') {
      seq = r.seq;
      write(JSON.stringify({ type: 'snapshot', state: r.state }), r.state.revision);
      return;
    }
    seq = r.seq;
    write(r.json, r.to);
  }

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush); // a burst of steps becomes one message
  };

  const offStep = feed.onStep(schedule);
  const timer = setInterval(() => {
    if (blockedAt !== undefined) {
      if (Date.now() - blockedAt >= stallMs) out.destroy();
      return;
    }
    // Any message proves the connection alive: heartbeats only fill silences.
    if (!out.destroyed && Date.now() - lastWriteAt >= heartbeatMs / 2)
      write(`{"type":"heartbeat","revision":${feed.revision}}`);
  }, heartbeatMs);
  timer.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    offStep();
    opts.onClose?.();
  };
  out.onClose(close);

  if (opts.since === undefined) sendSnapshot();
  else {
    const p = feed.positionFor(opts.since);
    if (p === 'snapshot') sendSnapshot();
    else if (p === 'future') waitingSince = opts.since;
    else {
      // Resumed: both sides stand at `since` (the PEP applied it, this manager holds
      // what follows), as if it had been sent here; the PEP's first ack may name it.
      seq = p;
      opts.onSent?.(opts.since);
      flush();
    }
  }
}
