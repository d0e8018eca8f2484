/**
 * The client's default transport: the part of `fetch` the client uses, over
 * node:http. Node's global fetch loads its bundled HTTP stack (undici) on first
 * use, which costs a CLI run more CPU than everything else it does together
 * (docs/adr/0010-compiled-cli.md); node:http is already part of the runtime.
 * Any real fetch satisfies the same `FetchLike` shape, so tests and other
 * runtimes can pass their own.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { ClientRequest } from 'node:http';

/** A request as the client sends it (a subset of fetch's RequestInit). */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  /** A string, or a stream read chunk by chunk (apply's upload progress). */
  body?: string | ReadableStream<Uint8Array>;
  /** fetch needs `duplex: 'half'` for a streamed body; ignored here. */
  duplex?: 'half';
  signal?: AbortSignal;
}

/** A response as the client reads it (a subset of fetch's Response). */
export interface FetchResponse {
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  body: AsyncIterable<Uint8Array> | null;
}

/** The transport the client calls: the global fetch fits, and so does httpFetch. */
export type FetchLike = (url: URL, init: FetchInit) => Promise<FetchResponse>;

/**
 * Send one request over node:http (or node:https for https URLs). Rejects as
 * fetch does: with the socket error when the connection fails, with the
 * signal's reason when it aborts (before or while the body is read).
 *
 * @example
 *   const res = await httpFetch(new URL('http://127.0.0.1:7400/healthz'), { method: 'GET', headers: {} });
 *   res.status // 200
 */
export function httpFetch(url: URL, init: FetchInit): Promise<FetchResponse> {
  return send(url, init, {});
}

/** A client certificate and its private key (PEM), presented to https managers (agent mTLS). */
export interface ClientCert {
  cert: string;
  key: string;
}

/** TLS material of a client: the only CA trusted (`ca`), and a client certificate. */
export type ClientTls = { ca?: string } & Partial<ClientCert>;

/**
 * httpFetch that trusts only `ca` (PEM) for https managers: the system CAs are not
 * consulted, so a certificate any public CA issued for the name is refused too.
 *
 * @example
 *   const fetch = pinnedFetch(readFileSync('/etc/vnp/ca.pem', 'utf8'));
 */
export function pinnedFetch(ca: string): FetchLike {
  return tlsFetch({ ca });
}

/**
 * httpFetch with TLS material: a pinned CA, a client certificate, or both.
 *
 * @example
 *   const fetch = tlsFetch({ ca, cert: readFileSync('agent-h1.pem', 'utf8'), key });
 */
export function tlsFetch(tls: ClientTls): FetchLike {
  return (url, init) => send(url, init, tls);
}

async function send(url: URL, init: FetchInit, tls: ClientTls): Promise<FetchResponse> {
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const signal = init.signal;
  if (signal?.aborted) throw signal.reason;
  return new Promise<FetchResponse>((resolve, reject) => {
    const options: RequestOptions = { ...tls, method: init.method, headers: init.headers };
    const req = request(url, options, (res) => resolve(toResponse(res, signal)));
    const onAbort = (): void => {
      reject(signal!.reason);
      req.destroy(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => reject(signal?.aborted ? signal.reason : e));
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    sendBody(req, init.body).catch((e: unknown) => req.destroy(e as Error));
  });
}

async function sendBody(req: ClientRequest, body: FetchInit['body']): Promise<void> {
  if (body === undefined || typeof body === 'string') {
    req.end(body);
    return;
  }
  // Write as the stream yields, waiting for the socket to drain: the stream's
  // reads are what report upload progress.
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
  }
  req.end();
}

function toResponse(res: IncomingMessage, signal: AbortSignal | undefined): FetchResponse {
  const status = res.statusCode ?? 0;
  // An abort while the body is read ends the body with the signal's reason.
  const onAbort = (): void => void res.destroy(signal!.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  res.once('close', () => signal?.removeEventListener('abort', onAbort));
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? '',
    headers: {
      get: (name) => {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    text: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    body: res,
  };
}
