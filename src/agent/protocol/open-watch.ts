/**
 * Open a host watch (docs/protocol.md) the preferred way: a WebSocket channel on the
 * watch URL (messages down, acknowledgements up the same connection). A manager that
 * answers the upgrade with a plain HTTP response (one that predates the channel, or
 * any error) is handled as the NDJSON watch it is: a 200 is followed line by line and
 * acknowledged over HTTP by the caller (`ack` is then absent).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';

/** An opened watch. */
export interface WatchConnection {
  /** 200 when the watch is followed (101 is reported as 200); else the manager's answer. */
  status: number;
  /** The messages, parsed, in order; `onData` is called for every frame or chunk received. */
  messages(onData: () => void): AsyncGenerator<unknown>;
  /** Acknowledge an applied revision on the channel; absent on NDJSON (use `POST …/ack`). */
  ack?: (revision: number) => void;
  /** Close the connection. */
  close(): void;
}

/**
 * @example
 *   const w = await openWatch(url, { authorization: `Bearer ${token}` }, signal);
 *   if (w.status !== 200) throw …;
 *   for await (const msg of w.messages(alive)) { …apply…; w.ack?.(revision) }
 */
export function openWatch(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<WatchConnection> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(u, { headers, perMessageDeflate: false });
    // Until the caller iterates, frames wait here (reading pauses while it applies).
    const frames: string[] = [];
    let ended: Error | undefined;
    let wakeReader: (() => void) | undefined;
    let onData: () => void = () => undefined;
    const onAbort = () => ws.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (err: Error) => {
      ended ??= err;
      signal.removeEventListener('abort', onAbort);
      wakeReader?.();
    };
    ws.on('unexpected-response', (req, res) => {
      signal.removeEventListener('abort', onAbort);
      resolve(ndjsonWatch(req.destroy.bind(req), res, signal));
    });
    ws.on('open', () =>
      resolve({
        status: 200,
        async *messages(data) {
          onData = data;
          for (;;) {
            while (frames.length > 0) {
              yield JSON.parse(frames.shift()!) as unknown;
              // A slow apply holds the frames back in the socket (backpressure).
              if (frames.length === 0) ws.resume();
            }
            if (ended) throw ended;
            await new Promise<void>((r) => (wakeReader = r));
            wakeReader = undefined;
          }
        },
        ack: (revision) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(`{"type":"ack","revision":${revision}}`);
        },
        close: () => ws.terminate(),
      }),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      onData();
      if (isBinary) return settle(new Error('watch: unexpected binary frame'));
      frames.push(data.toString());
      ws.pause();
      wakeReader?.();
    });
    ws.on('close', (code) => settle(new Error(`watch channel closed (${code})`)));
    ws.on('error', (err) => {
      settle(err);
      reject(err);
    });
  });
}

function ndjsonWatch(
  destroy: () => void,
  res: IncomingMessage,
  signal: AbortSignal,
): WatchConnection {
  const onAbort = () => destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    status: res.statusCode ?? 0,
    async *messages(onData) {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          onData();
          buf += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) yield JSON.parse(line) as unknown;
          }
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    close: () => {
      signal.removeEventListener('abort', onAbort);
      destroy();
    },
  };
}
