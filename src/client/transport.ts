/**
 * The client's transport: one manager's base URL, token and timeout, a request that
 * decodes a JSON answer or throws VnpError (the server's own error rebuilt, or
 * VNP_ERR_UNAVAILABLE "cannot reach the manager at URL: …"), NDJSON streams and
 * health probes. The API areas build on it (resource-client.ts, client.ts).
 */
import type { HealthInfo } from './api-types.js';
import { connectionError, errorFromResponse } from './errors.js';
import {
  httpFetch,
  tlsFetch,
  type ClientCert,
  type FetchInit,
  type FetchLike,
  type FetchResponse,
} from './http-fetch.js';

export interface VnpClientOptions {
  /** Base URL of the manager, e.g. `http://127.0.0.1:7400` (a bare `host:port` gets `http://`). */
  server: string;
  /** Bearer token; requests go unauthenticated without one. */
  token?: string;
  /** Per-request timeout in milliseconds (default 120 s; watch streams have none). */
  timeoutMs?: number;
  /** The transport (default: httpFetch over node:http; the global fetch fits too). */
  fetch?: FetchLike;
  /** PEM of the only CA trusted for an https manager (`--ca-file`); ignored with `fetch`. */
  ca?: string;
  /** A client certificate for https managers (agent mTLS); ignored with `fetch`. */
  clientCert?: ClientCert;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Pre-encoded body with upload progress (apply of big batches). */
  upload?: { bytes: Uint8Array; onProgress: (sent: number, total: number) => void };
  timeoutMs?: number | null;
}

/** Normalise a server address: add `http://`, drop trailing slashes. */
export function normaliseServer(server: string): string {
  const trimmed = server.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  return withScheme.replace(/\/+$/, '');
}

const UPLOAD_CHUNK = 64 * 1024;

/** Requests to one manager; see VnpClient for the API. */
export class ClientTransport {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchImpl: FetchLike;

  constructor(opts: VnpClientOptions) {
    this.server = normaliseServer(opts.server);
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    const tls = { ...(opts.ca === undefined ? {} : { ca: opts.ca }), ...opts.clientCert };
    this.fetchImpl = opts.fetch ?? (Object.keys(tls).length === 0 ? httpFetch : tlsFetch(tls));
  }

  /** An NDJSON stream as values (blank keep-alive lines skipped). */
  protected async *ndjson<T>(
    path: string,
    query: Record<string, string | number | undefined>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<T> {
    const res = await this.send('GET', path, { query, timeoutMs: null }, signal);
    if (!res.ok) throw responseError(res, await readBody(res));
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line !== '') yield JSON.parse(line) as T;
      }
    }
    if (buffered.trim() !== '') yield JSON.parse(buffered) as T;
  }

  /** Send one request and decode its JSON answer; throws VnpError on any failure. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const body = await readBody(res);
    if (!res.ok) throw responseError(res, body);
    return body as T;
  }

  /** A health probe: the status and body, never a throw on a non-2xx. */
  protected async probe(path: string): Promise<HealthInfo> {
    const res = await this.send('GET', path, { timeoutMs: 10_000 });
    return { ok: res.ok, status: res.status, body: await readBody(res) };
  }

  private async send(
    method: string,
    path: string,
    opts: RequestOptions,
    signal?: AbortSignal,
  ): Promise<FetchResponse> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined && this.token !== '')
      headers.authorization = `Bearer ${this.token}`;
    const init: FetchInit = { method, headers };
    if (opts.upload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(opts.upload.bytes.byteLength);
      init.body = progressStream(opts.upload.bytes, opts.upload.onProgress);
      init.duplex = 'half';
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    const timeoutMs = opts.timeoutMs === undefined ? this.timeoutMs : opts.timeoutMs;
    const signals = [
      signal,
      timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs),
    ].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length > 0)
      init.signal = signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      return await this.fetchImpl(url, init);
    } catch (e) {
      if (signal?.aborted) throw e;
      throw connectionError(this.server, e);
    }
  }
}

/** A body stream that reports how much of it was read (i.e. sent). */
function progressStream(
  bytes: Uint8Array,
  onProgress: (sent: number, total: number) => void,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      const end = Math.min(offset + UPLOAD_CHUNK, bytes.byteLength);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      onProgress(offset, bytes.byteLength);
    },
  });
}

function responseError(res: FetchResponse, body: unknown): Error {
  return errorFromResponse(
    res.status,
    body,
    res.statusText,
    res.headers.get('x-request-id') ?? undefined,
  );
}

async function readBody(res: FetchResponse): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Accept `{items: [...]}` or a bare array. */
export function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (
    typeof body === 'object' &&
    body !== null &&
    Array.isArray((body as { items?: unknown }).items)
  ) {
    return (body as { items: T[] }).items;
  }
  return [];
}
