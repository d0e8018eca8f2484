import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { VnpClient } from './client.js';
import { httpFetch } from './http-fetch.js';

/** A real HTTP server: echoes requests, streams, stalls on request. */
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/stall') return; // never answers
      if (url.pathname === '/stream' || url.pathname === '/v1/watch') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"revision":1}\n{"revi');
        setTimeout(() => res.end('sion":2}\n'), 20);
        return;
      }
      const status = Number(url.searchParams.get('status') ?? 200);
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'r-1' });
      res.end(
        JSON.stringify({
          method: req.method,
          auth: req.headers.authorization ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('httpFetch', () => {
  it('sends method, headers and body; reads status, headers and text', async () => {
    const res = await httpFetch(new URL(`${base}/x?status=201`), {
      method: 'POST',
      headers: { authorization: 'Bearer T', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res).toMatchObject({ ok: true, status: 201, statusText: 'Created' });
    expect(res.headers.get('X-Request-Id')).toBe('r-1');
    expect(res.headers.get('x-absent')).toBeNull();
    expect(JSON.parse(await res.text())).toEqual({
      method: 'POST',
      auth: 'Bearer T',
      body: '{"a":1}',
    });
  });

  it('a 4xx is a response, not an error', async () => {
    const res = await httpFetch(new URL(`${base}/x?status=404`), { method: 'GET', headers: {} });
    expect(res.ok).toBe(false);
    expect(res.status).toBe(404);
  });

  it('sends a streamed body in full', async () => {
    const bytes = new TextEncoder().encode('x'.repeat(300_000));
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (offset >= bytes.length) return c.close();
        c.enqueue(bytes.subarray(offset, offset + 65536));
        offset += 65536;
      },
    });
    const res = await httpFetch(new URL(`${base}/x`), {
      method: 'POST',
      headers: { 'content-length': String(bytes.length) },
      body,
    });
    expect((JSON.parse(await res.text()) as { body: string }).body).toHaveLength(300_000);
  });

  it('streams the response body as it arrives', async () => {
    const res = await httpFetch(new URL(`${base}/stream`), { method: 'GET', headers: {} });
    let text = '';
    for await (const chunk of res.body!) text += Buffer.from(chunk).toString('utf8');
    expect(text).toBe('{"revision":1}\n{"revision":2}\n');
  });

  it('rejects with the signal reason on a timeout', async () => {
    const err = await httpFetch(new URL(`${base}/stall`), {
      method: 'GET',
      headers: {},
      signal: AbortSignal.timeout(50),
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('the client over it: timeouts named, watch streams line by line', async () => {
    const c = new VnpClient({ server: base, timeoutMs: 100 });
    const err = (await c.request('GET', '/stall').catch((e: unknown) => e)) as VnpError;
    expect(err).toBeInstanceOf(VnpError);
    expect(err.message).toBe(`cannot reach the manager at ${base}: request timed out`);
    const seen: unknown[] = [];
    for await (const e of c.watch(0)) seen.push(e.revision);
    expect(seen).toEqual([1, 2]);
  });
});
