import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL } from './support/fixtures.js';
import { writesBesidesDenials } from './support/denied-audit-suite.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  const r = await s.call('POST', '/v1/apply', { body: { documents: MODEL } });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await s?.close();
});

const ROUTES: [string, string][] = [
  ['POST', '/v1/subnets'],
  ['PUT', '/v1/interfaces/fz'],
  ['PATCH', '/v1/interfaces/web1'],
  ['PATCH', '/v1/interfaces/web1/tags'],
  ['POST', '/v1/interfaces/web1/attach'],
  ['PUT', '/v1/policies/db-in'],
  ['PATCH', '/v1/policies/db-in'],
  ['PUT', '/v1/partitions/fz'],
  ['PUT', '/v1/reactions/fz'],
  ['PUT', '/v1/settings'],
  ['POST', '/v1/apply'],
  ['POST', '/v1/check'],
  ['POST', '/v1/policy-for-tags'],
  ['POST', '/v1/tokens'],
];

/** Values that look like the model's fields: names, addresses, selectors, ports. */
const plausible = fc.oneof(
  fc.constantFrom(
    'lan',
    'web1',
    'db1',
    'vm1',
    'prod',
    '10.0.0.30',
    '10.0.0.10',
    '::1',
    '10.0.0.0/24',
    'all()',
    'app == "web"',
    'tcp/443',
    'udp',
    'allow',
    'deny',
    'audit',
    'enforce',
    '',
  ),
  fc.integer({ min: -2, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
);
const FIELDS = [
  'name',
  'kind',
  'cidr',
  'vni',
  'host',
  'netns',
  'subnet',
  'ips',
  'mac',
  'tags',
  'instance',
  'selector',
  'intra',
  'priority',
  'appliesTo',
  'ingress',
  'egress',
  'routes',
  'mode',
  'on',
  'match',
  'addTags',
  'removeTags',
  'ttl',
  'defaults',
  'set',
  'remove',
  'documents',
  'dryRun',
  'src',
  'dst',
  'protocol',
  'port',
  'role',
];
const plausibleValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    plausible,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(...FIELDS, 'action', 'from', 'to', 'ports', 'via'),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;
const plausibleBody = fc.dictionary(fc.constantFrom(...FIELDS), plausibleValue, { maxKeys: 6 });
const anyBody = fc.oneof(plausibleBody, fc.jsonValue({ maxDepth: 4 }));

describe('fuzzed request bodies', () => {
  it('never answer 5xx, and a refused write changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), anyBody, async ([method, url], payload) => {
        const before = s.manager.revision;
        const r = await s.call(method, url, { body: payload });
        expect(r.status, `${method} ${url} ${JSON.stringify(payload)} → ${r.text}`).toBeLessThan(
          500,
        );
        if (r.status >= 400) {
          expect(r.body.error.code).toMatch(/^VNP_ERR_/);
          expect(await writesBesidesDenials(s, before)).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never answer 5xx to raw garbage', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.string({ maxLength: 80 }),
        async ([method, url], raw) => {
          const before = s.manager.revision;
          const r = await s.call(method, url, { raw });
          expect(r.status, `${method} ${url} ${JSON.stringify(raw)} → ${r.text}`).toBeLessThan(500);
          if (r.status >= 400) expect(await writesBesidesDenials(s, before)).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never answer 5xx to fuzzed selectors and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 10 }),
        async (selector, limit) => {
          const q = `selector=${encodeURIComponent(selector)}&limit=${encodeURIComponent(limit)}`;
          const r = await s.call('GET', `/v1/interfaces?${q}`, { as: 'viewer' });
          expect(r.status, `${q} → ${r.text}`).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });
});
