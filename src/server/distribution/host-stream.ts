/**
 * One agent watch stream (docs/protocol.md): a snapshot or a resume position, then
 * a delta per step of the shared feed, heartbeats in between.
 *
 * Invariants:
 * - the stream holds no pending data of its own, only its feed position: a message is
 *   rendered when the socket can take it, so while it is backed up every new step
 *   coalesces into the next message (memory per connection is O(1) plus one message);
 * - a stream stuck behind backpressure for `stallMs` is a dead reader: it is closed;
 * - heartbeats are only written when the socket is not backed up and nothing else was
 *   written for half a period (at 10,000 streams they are a syscall each).
 */
import type { Writable } from 'node:stream';
import type { HostFeed } from './host-feed.js';

/** Settings of {@link serveHostStream}. */
export interface HostStreamOptions {
  feed: HostFeed;
  host: string;
  /** Where the output goes (the raw HTTP response). */
  out: Writable;
  /** The PEP's last applied revision (`?since=`); absent: start with a snapshot. */
  since?: number;
  /** Heartbeat period (default 5000 ms). */
  heartbeatMs?: number;
  /** Backpressure this long closes the stream (default 60000 ms). */
  stallMs?: number;
  /** Told of the revision of every message written. */
  onSent?: (revision: number) => void;
  /** Called once when the stream ends. */
  onClose?: () => void;
}

/**
 * Serve one stream until the connection closes.
 *
 * @example
 *   serveHostStream({ feed, host: 'h1', out: reply.raw, since: 41, onSent: (r) => peps.sent('h1', r) });
 */
export function serveHostStream(opts: HostStreamOptions): void {
  const { feed, host, out } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const stallMs = opts.stallMs ?? 60_000;
  let seq = feed.head;
  let waitingSince: number | undefined;
  let blockedAt: number | undefined;
  let scheduled = false;
  let closed = false;
  let lastWriteAt = Date.now();

  const write = (text: string, revision?: number): void => {
    const ok = out.write(text);
    lastWriteAt = Date.now();
    if (revision !== undefined) opts.onSent?.(revision);
    if (!ok) {
      blockedAt = Date.now();
      out.once('drain', () => {
        blockedAt = undefined;
        flush();
      });
    }
  };

  const sendSnapshot = (): void => {
    const state = feed.snapshot(host);
    seq = feed.head;
    write(JSON.stringify({ type: 'snapshot', state }) + '\n', state.revision);
  };

  function flush(): void {
    scheduled = false;
    if (closed || blockedAt !== undefined || out.destroyed) return;
    if (waitingSince !== undefined) {
      const p = feed.futurePosition(waitingSince);
      if (p === undefined) return;
      seq = p;
      waitingSince = undefined;
    }
    const r = feed.render(host, seq);
    if (r.kind === 'none') return;
    if (r.kind === 'snapshot') {
      seq = r.seq;
      write(JSON.stringify({ type: 'snapshot', state: r.state }) + '\n', r.state.revision);
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
      write(`{"type":"heartbeat","revision":${feed.revision}}\n`);
  }, heartbeatMs);
  timer.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    offStep();
    opts.onClose?.();
  };
  out.on('close', close);
  out.on('error', close);

  if (opts.since === undefined) sendSnapshot();
  else {
    const p = feed.positionFor(opts.since);
    if (p === 'snapshot') sendSnapshot();
    else if (p === 'future') waitingSince = opts.since;
    else {
      seq = p;
      flush();
    }
  }
}
