/**
 * Hostile input that once gave a 500 on both stores (issue #11, high 5 and 6), as one
 * suite both store tests run: NUL and unpaired surrogates in every kind of stored
 * string, event details of any JSON type, a Suricata severity beyond 32 bits, and
 * nesting deep enough to overflow a recursive walk. Each is refused with a 400 naming
 * the field and changes nothing — or, for event details, is stored faithfully.
 */
import { describe, expect, it } from 'vitest';
import { quarantineDocuments } from '../../reactions/support.js';
import type { TestServer } from './test-server.js';

interface Hostile {
  what: string;
  method: string;
  url: string;
  /** A raw JSON body (to carry escapes like \ud800 as written). */
  raw?: string;
  body?: unknown;
  contentType?: string;
  field: string;
}

const NUL = '\u0000';
const nested = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);
const nestedObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const CASES: Hostile[] = [
  {
    what: 'NUL in a tag value',
    method: 'PATCH',
    url: '/v1/interfaces/web-1/tags',
    body: { set: { env: `a${NUL}b` } },
    field: 'set.env',
  },
  {
    what: 'NUL in a tag key',
    method: 'PATCH',
    url: '/v1/interfaces/web-1/tags',
    body: { set: { [`k${NUL}`]: 'x' } },
    field: 'set["k\\u0000"]',
  },
  {
    what: 'a lone surrogate in a tag value',
    method: 'PATCH',
    url: '/v1/interfaces/web-1/tags',
    raw: '{"set":{"env":"a\\ud800b"}}',
    field: 'set.env',
  },
  {
    what: 'a lone low surrogate in a description',
    method: 'PUT',
    url: '/v1/partitions/p1',
    raw: '{"selector":"all()","description":"x\\udc00"}',
    field: 'description',
  },
  {
    what: 'NUL in a selector',
    method: 'PUT',
    url: '/v1/partitions/p1',
    body: { selector: `app == "a${NUL}"` },
    field: 'selector',
  },
  {
    what: 'NUL in an apply document',
    method: 'POST',
    url: '/v1/apply',
    body: { documents: [{ kind: 'Partition', name: 'p2', selector: 'all()', description: NUL }] },
    field: 'documents[0].description',
  },
  {
    what: 'NUL in a token host',
    method: 'POST',
    url: '/v1/tokens',
    body: { role: 'agent', host: `h${NUL}` },
    field: 'host',
  },
  { what: 'NUL in a token id (path)', method: 'DELETE', url: '/v1/tokens/a%00b', field: 'id' },
  {
    what: 'a lone surrogate in a path',
    method: 'GET',
    url: '/v1/interfaces/a%ED%A0%80',
    field: 'url',
  },
  {
    what: 'NUL in a query selector',
    method: 'GET',
    url: '/v1/interfaces?selector=a%00',
    field: 'selector',
  },
  {
    what: 'NUL in an event target',
    method: 'POST',
    url: '/v1/events',
    body: { type: 'ids.alert', target: `web-1${NUL}` },
    field: 'target',
  },
  {
    what: 'NUL in event details',
    method: 'POST',
    url: '/v1/events',
    body: { type: 'ids.alert', target: 'web-1', details: { note: NUL } },
    field: 'details.note',
  },
  {
    what: 'NUL in a Suricata signature',
    method: 'POST',
    url: '/v1/events/suricata',
    contentType: 'application/x-ndjson',
    raw: '{"event_type":"alert","src_ip":"10.20.0.10","alert":{"signature":"a\\u0000"}}\n',
    field: '[0].alert.signature',
  },
  {
    what: 'a Suricata severity beyond 32 bits',
    method: 'POST',
    url: '/v1/events/suricata',
    body: {
      event_type: 'alert',
      src_ip: '10.20.0.10',
      alert: { signature: 'x', severity: 2147483648 },
    },
    field: '[0].alert.severity',
  },
  {
    what: 'a merge patch 20,000 levels deep',
    method: 'PATCH',
    url: '/v1/partitions/quarantine',
    contentType: 'application/merge-patch+json',
    raw: `{"description":${nested(20_000)}}`,
    field: 'body',
  },
  {
    what: 'a merge patch of objects 20,000 levels deep',
    method: 'PATCH',
    url: '/v1/partitions/quarantine',
    contentType: 'application/merge-patch+json',
    raw: nestedObject(20_000),
    field: 'body',
  },
  {
    what: 'event details 100,000 levels deep',
    method: 'POST',
    url: '/v1/events',
    raw: `{"type":"ids.alert","target":"web-1","details":${nested(100_000)}}`,
    field: 'body',
  },
  {
    what: 'a Suricata line 100,000 levels deep',
    method: 'POST',
    url: '/v1/events/suricata',
    contentType: 'application/x-ndjson',
    raw: `${nested(100_000, '{}')}\n`,
    field: 'line 1',
  },
];

/**
 * The suite, against the server `get()` returns (the quarantine example applied).
 *
 * @example describeHostileInput(() => s);
 */
export function describeHostileInput(get: () => TestServer): void {
  describe('hostile input', () => {
    it('applies the quarantine example', async () => {
      const r = await get().call('POST', '/v1/apply', {
        body: { documents: quarantineDocuments() },
      });
      expect(r.status, r.text).toBe(200);
    });

    it.each(CASES.map((c) => [c.what, c] as const))(
      'refuses %s with a 400 naming the field',
      async (_what, c) => {
        const s = get();
        const before = s.manager.revision;
        const events = (await s.call('GET', '/v1/events?limit=1000')).body.items.length as number;
        const r = await s.call(c.method, c.url, {
          ...(c.raw !== undefined ? { raw: c.raw } : c.body !== undefined ? { body: c.body } : {}),
          ...(c.contentType ? { headers: { 'content-type': c.contentType } } : {}),
        });
        expect(r.status, r.text).toBe(400);
        expect(r.body.error.code).toBe('VNP_ERR_VALIDATION');
        expect(r.body.error.details.field).toBe(c.field);
        expect(s.manager.revision).toBe(before);
        expect((await s.call('GET', '/v1/events?limit=1000')).body.items.length).toBe(events);
        expect((await s.call('GET', '/healthz', { as: null })).status).toBe(200);
      },
    );

    it.each([
      ['a string', 'abc'],
      ['a numeric string', '1'],
      ['a number', 1],
      ['null inside', { a: null }],
      ['an array', [1, 'x']],
      ['text with a paired surrogate', '😀'],
    ])(
      'stores event details given as %s faithfully, and the reaction fires',
      async (_what, details) => {
        const s = get();
        const before = s.manager.revision;
        const r = await s.call('POST', '/v1/events', {
          as: 'operator',
          body: { type: 'ids.alert', target: 'web-1', details },
        });
        expect(r.status, r.text).toBe(201);
        expect(r.body.event.reactions).toEqual(['quarantine']);
        expect(r.body.event.details).toEqual(details);
        // The first fires the quarantine; the next ones find it in place (no new revision).
        expect(s.manager.revision).toBeGreaterThanOrEqual(before);
        const rec = await s.call('GET', '/v1/interfaces/web-1', { as: 'viewer' });
        expect(rec.body.tags.quarantine).toBe(true);
        const list = await s.call('GET', '/v1/events?limit=1');
        expect(list.body.items[0].details).toEqual(details);
      },
    );
  });
}
