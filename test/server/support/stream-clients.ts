/**
 * Raw long-lived clients of a listening manager, for tests that watch how a stream
 * ends: an NDJSON reader (host watch or `/v1/watch`) and a WebSocket channel, each
 * recording its lines/frames and resolving `ended` with how and when it ended.
 */
import http from 'node:http';
import { WebSocket } from 'ws';

/** How a stream ended: NDJSON `end` (clean) or `close`/`error`; WebSocket close code. */
export interface StreamEnd {
  at: number;
  how: string;
  code?: number;
  reason?: string;
}

export interface OpenStream {
  /** Non-empty lines (NDJSON) or text frames (WebSocket) received so far. */
  messages: string[];
  ended: Promise<StreamEnd>;
  close(): void;
  /** Sends a text frame up (WebSocket channels only). */
  send?(text: string): void;
}

/** An answer that refused to open a stream. */
export interface Refusal {
  status: number;
  body: { error?: { code?: string } };
}

/**
 * GET an NDJSON stream; resolves once the 200 headers arrived, or with the refusal.
 *
 * @example const w = await openNdjson(url + '/v1/hosts/h1/watch', token);
 */
export function openNdjson(target: string, token: string): Promise<OpenStream | Refusal> {
  return new Promise((resolve, reject) => {
    const req = http.get(target, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        return;
      }
      const messages: string[] = [];
      let rest = '';
      res.on('data', (c: string) => {
        const lines = (rest + c).split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l.trim() !== '') messages.push(l);
      });
      const ended = new Promise<StreamEnd>((done) => {
        res.once('end', () => done({ at: Date.now(), how: 'end' }));
        res.once('close', () => done({ at: Date.now(), how: 'close' }));
        res.once('error', () => done({ at: Date.now(), how: 'error' }));
      });
      resolve({ messages, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

/**
 * Open a WebSocket channel; resolves once open, or with the refusal.
 *
 * @example const c = await openChannel(wsUrl + '/v1/hosts/h1/watch', token);
 */
export function openChannel(
  target: string,
  token: string | undefined,
): Promise<OpenStream | Refusal> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const ws = new WebSocket(target, { headers });
    const messages: string[] = [];
    ws.on('message', (d: Buffer) => messages.push(d.toString()));
    const ended = new Promise<StreamEnd>((done) =>
      ws.once('close', (code, reason) =>
        done({ at: Date.now(), how: 'close', code, reason: reason.toString() }),
      ),
    );
    ws.on('open', () =>
      resolve({ messages, ended, close: () => ws.terminate(), send: (t) => ws.send(t) }),
    );
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.on('error', reject);
  });
}

/** The stream, or a throw naming the refusal. */
export function opened(r: OpenStream | Refusal): OpenStream {
  if ('status' in r) throw new Error(`refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

/** Whether the stream is still open after `ms` (a stream that must not be closed). */
export async function stillOpenAfter(s: OpenStream, ms: number): Promise<boolean> {
  const t = new Promise<'open'>((r) => setTimeout(() => r('open'), ms));
  return (await Promise.race([s.ended.then(() => 'ended' as const), t])) === 'open';
}

/** How the stream ended; throws when it is still open after `ms` (a fast, clear failure). */
export async function endedWithin(s: OpenStream, ms: number): Promise<StreamEnd> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stream still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([s.ended, t]);
  } finally {
    clearTimeout(timer);
  }
}
