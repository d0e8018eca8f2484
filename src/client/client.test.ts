import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import { normaliseServer, resourcePath, VnpClient } from './client.js';
import { errorFromResponse, RemoteVnpError } from './errors.js';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A fake fetch answering from a handler and recording calls. */
function fakeFetch(handler: (c: Call) => { status?: number; body?: unknown; text?: string }) {
  const calls: Call[] = [];
  const f = (async (input: URL | string, init?: RequestInit) => {
    let body: unknown;
    if (typeof init?.body === 'string') body = JSON.parse(init.body);
    else if (init?.body instanceof ReadableStream) {
      body = JSON.parse(await new Response(init.body).text());
    }
    const call = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: init?.headers as Record<string, string>,
      body,
    };
    calls.push(call);
    const r = handler(call);
    const text = r.text ?? (r.body === undefined ? '' : JSON.stringify(r.body));
    return new Response(text, { status: r.status ?? 200 });
  }) as typeof fetch;
  return { f, calls };
}

/** A port nothing listens on (taken from the kernel, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('VnpClient', () => {
  it('sends the bearer token and JSON bodies', async () => {
    const { f, calls } = fakeFetch(() => ({ body: { name: 'web-1', tags: {} } }));
    const c = new VnpClient({ server: 'http://m:7400/', token: 'T', fetch: f });
    await c.patchTags('web-1', { set: { env: 'prod' } });
    expect(calls[0]).toMatchObject({
      method: 'PATCH',
      url: 'http://m:7400/v1/interfaces/web-1/tags',
      body: { set: { env: 'prod' } },
    });
    expect(calls[0]!.headers.authorization).toBe('Bearer T');
    expect(calls[0]!.headers['content-type']).toBe('application/json');
  });

  it('adds kind to resources it returns', async () => {
    const { f } = fakeFetch(() => ({ body: { name: 's', cidr: '10.0.0.0/24' } }));
    const got = await new VnpClient({ server: 'm:1', fetch: f }).get('Subnet', 's');
    expect(got).toEqual({ kind: 'Subnet', name: 's', cidr: '10.0.0.0/24' });
  });

  it('follows `next` through every page, passing it as `after`', async () => {
    const { f, calls } = fakeFetch((c) => {
      const after = new URL(c.url).searchParams.get('after');
      if (after === null) return { body: { items: [{ name: 'a' }, { name: 'b' }], next: 'b' } };
      if (after === 'b') return { body: { items: [{ name: 'c' }] } };
      return { status: 500 };
    });
    const items = await new VnpClient({ server: 'http://m', fetch: f }).list('Interface', {
      selector: 'tier == 2',
    });
    expect(items.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    expect(new URL(calls[0]!.url).searchParams.get('selector')).toBe('tier == 2');
    expect(calls).toHaveLength(2);
  });

  it('rebuilds the server’s error', async () => {
    const { f } = fakeFetch(() => ({
      status: 404,
      body: {
        error: {
          code: 'VNP_ERR_NOT_FOUND',
          message: 'no Interface named x',
          details: { name: 'x' },
        },
      },
    }));
    const err = await new VnpClient({ server: 'http://m', fetch: f })
      .get('Interface', 'x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VnpError);
    expect(err).toMatchObject({
      code: 'VNP_ERR_NOT_FOUND',
      message: 'no Interface named x',
      details: { name: 'x' },
    });
    expect((err as VnpError).status).toBe(404);
  });

  it('says it cannot reach the manager when the connection fails', async () => {
    const port = await closedPort();
    const c = new VnpClient({ server: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    const err = (await c.get('Subnet', 'a').catch((e: unknown) => e)) as VnpError;
    expect(err).toBeInstanceOf(VnpError);
    expect(err.code).toBe('VNP_ERR_UNAVAILABLE');
    expect(err.message).toBe(
      `cannot reach the manager at http://127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    );
  });

  it('streams an apply body with upload progress', async () => {
    const { f, calls } = fakeFetch(() => ({ body: { revision: 3, diff: [], tests: [] } }));
    const seen: number[] = [];
    const documents = Array.from({ length: 3000 }, (_, i) => ({
      kind: 'Subnet' as const,
      name: `s${i}`,
      cidr: '10.0.0.0/24',
    }));
    const r = await new VnpClient({ server: 'http://m', fetch: f }).apply(
      { documents },
      { onUploadProgress: (sent) => seen.push(sent) },
    );
    expect(r.revision).toBe(3);
    expect((calls[0]!.body as { documents: unknown[] }).documents).toHaveLength(3000);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen[seen.length - 1]).toBe(Number(calls[0]!.headers['content-length']));
  });

  it('maps a settings get to the singleton route', async () => {
    const { f, calls } = fakeFetch(() => ({ body: { name: 'default', defaults: {} } }));
    await new VnpClient({ server: 'http://m', fetch: f }).list('Settings');
    expect(calls[0]!.url).toBe('http://m/v1/settings');
  });

  it('maps the history and impact methods to their routes', async () => {
    const { f, calls } = fakeFetch(() => ({ body: { rows: [], truncated: 0 } }));
    const c = new VnpClient({ server: 'http://m', fetch: f });
    await c.impact({ documents: [], deletes: [{ kind: 'Policy', name: 'p' }] });
    await c.whoCanReach('db-1', { proto: 'tcp', port: 5432 });
    await c.history(5);
    await c.diff(3, 7);
    await c.rollback(4, true);
    expect(calls.map((x) => `${x.method} ${x.url.replace('http://m', '')}`)).toEqual([
      'POST /v1/impact',
      'GET /v1/who-can-reach?dst=db-1&proto=tcp&port=5432',
      'GET /v1/history?limit=5',
      'GET /v1/diff?from=3&to=7',
      'POST /v1/rollback',
    ]);
    expect(calls[4]!.body).toEqual({ revision: 4, dryRun: true });
  });

  it('reads watch streams line by line', async () => {
    const { f } = fakeFetch(() => ({ text: '{"revision":1}\n\n{"revision":2}\n{"revision":3}' }));
    const seen: unknown[] = [];
    for await (const e of new VnpClient({ server: 'http://m', fetch: f }).watch(0))
      seen.push(e.revision);
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('errorFromResponse', () => {
  it('keeps a code this build does not know, with the real status', () => {
    const e = errorFromResponse(418, {
      error: { code: 'VNP_ERR_TEAPOT', message: 'short and stout' },
    });
    expect(e).toBeInstanceOf(RemoteVnpError);
    expect(e.code).toBe('VNP_ERR_TEAPOT');
    expect(e.status).toBe(418);
  });

  it('names the request id of a server bug (5xx) only', () => {
    const body = { error: { code: 'VNP_ERR_INTERNAL', message: 'boom' } };
    const e = errorFromResponse(500, body, '', 'r-42');
    expect(e.message).toBe('boom (request id r-42)');
    expect(e.details?.requestId).toBe('r-42');
    expect(errorFromResponse(404, body, '', 'r-43').message).toBe('boom');
  });

  it('maps bodies not in the error form by status', () => {
    expect(errorFromResponse(401, undefined).code).toBe('VNP_ERR_UNAUTHENTICATED');
    expect(errorFromResponse(502, '<html>bad gateway</html>').message).toBe(
      '<html>bad gateway</html>',
    );
    expect(errorFromResponse(503, { message: 'booting' }).code).toBe('VNP_ERR_UNAVAILABLE');
    expect(errorFromResponse(500, undefined, 'Internal Server Error').message).toBe(
      'HTTP 500 Internal Server Error',
    );
  });
});

describe('paths', () => {
  it('normalises servers and escapes names', () => {
    expect(normaliseServer('10.0.0.5:7400')).toBe('http://10.0.0.5:7400');
    expect(normaliseServer('https://m/')).toBe('https://m');
    expect(resourcePath('Policy', 'a b')).toBe('/v1/policies/a%20b');
    expect(resourcePath('Settings', 'default')).toBe('/v1/settings');
  });
});
