import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, PASSING_TESTS, SUBNET } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

async function snapshot(): Promise<string> {
  const kinds = ['subnets', 'instances', 'interfaces', 'partitions', 'policies', 'reactions'];
  const lists = await Promise.all(kinds.map((k) => s.call('GET', `/v1/${k}`)));
  return JSON.stringify(lists.map((l) => l.body)) + (await s.call('GET', '/v1/settings')).text;
}

describe('POST /v1/apply', () => {
  it('dry-run reports the diff and test results and changes nothing', async () => {
    const before = await snapshot();
    const rev = s.manager.revision;
    const r = await s.call('POST', '/v1/apply', {
      body: { documents: [...MODEL, ...PASSING_TESTS], dryRun: true },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.dryRun).toBe(true);
    expect(r.body).not.toHaveProperty('revision');
    expect(r.body.diff).toHaveLength(MODEL.length);
    expect(r.body.diff.every((d: { op: string }) => d.op === 'create')).toBe(true);
    expect(r.body.tests.map((t: { passed: boolean }) => t.passed)).toEqual([true, true]);
    expect(s.manager.revision).toBe(rev);
    expect(await snapshot()).toBe(before);
  });

  it('applies a batch as one revision and returns it', async () => {
    const rev = s.manager.revision;
    const r = await s.call('POST', '/v1/apply', {
      body: { documents: [...MODEL, ...PASSING_TESTS] },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.revision).toBe(rev + 1);
    expect(s.manager.revision).toBe(rev + 1);
    expect(r.body.tests).toHaveLength(2);
    expect((await s.call('GET', '/v1/interfaces/db1')).body.revision).toBe(rev + 1);
  });

  it('re-applying the same documents changes nothing and commits nothing', async () => {
    const rev = s.manager.revision;
    const r = await s.call('POST', '/v1/apply', { body: { documents: MODEL } });
    expect(r.status).toBe(200);
    expect(r.body.revision).toBe(rev);
    expect(r.body.diff.every((d: { op: string }) => d.op === 'unchanged')).toBe(true);
  });

  it('refuses the whole batch when one document is bad (all or nothing)', async () => {
    const before = await snapshot();
    const r = await s.call('POST', '/v1/apply', {
      body: {
        documents: [
          { kind: 'Subnet', name: 'other', cidr: '10.1.0.0/24' },
          { kind: 'Interface', name: 'x', subnet: 'nosuch', ips: ['10.1.0.5'], tags: {} },
        ],
      },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('VNP_ERR_REFERENCE');
    expect(await snapshot()).toBe(before);
  });

  it('names the document index of a shape error', async () => {
    const r = await s.call('POST', '/v1/apply', {
      body: { documents: [SUBNET, { kind: 'Subnet', name: 'y', cidr: '10.3.0.0/24', vni: 'x' }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('documents[1].vni');
    const dup = await s.call('POST', '/v1/apply', { body: { documents: [SUBNET, SUBNET] } });
    expect(dup.status).toBe(400);
    expect(dup.body.error.details.field).toBe('documents[1].name');
    const kind = await s.call('POST', '/v1/apply', {
      body: { documents: [{ kind: 'Gadget', name: 'g' }] },
    });
    expect(kind.status).toBe(400);
  });

  it('refuses everything when a Test fails, reporting every failing test', async () => {
    const before = await snapshot();
    const rev = s.manager.revision;
    const open = {
      kind: 'Policy',
      name: 'open-db',
      priority: 200,
      appliesTo: 'app == "db"',
      ingress: [{ action: 'allow' }],
    };
    const r = await s.call('POST', '/v1/apply', {
      body: {
        documents: [
          open,
          ...PASSING_TESTS,
          { kind: 'Test', name: 'ghost', src: 'ghost', dst: 'db1', expect: 'deny' },
        ],
      },
    });
    expect(r.status, r.text).toBe(422);
    expect(r.body.error.code).toBe('VNP_ERR_TEST_FAILED');
    const failed = r.body.error.details.failed.map((f: { name: string }) => f.name);
    expect(failed).toEqual(['web-to-db-ssh', 'ghost']);
    expect(r.body.error.details.failed[0]).toMatchObject({
      expect: 'deny',
      got: 'allow',
      passed: false,
    });
    expect(s.manager.revision).toBe(rev);
    expect(await snapshot()).toBe(before);
    expect((await s.call('GET', '/v1/policies/open-db')).status).toBe(404);
  });

  it('refuses a malformed Test document', async () => {
    const r = await s.call('POST', '/v1/apply', {
      body: { documents: [{ kind: 'Test', name: 't', src: 'web1', dst: 'db1', expect: 'maybe' }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe('documents[0].expect');
  });
});

describe('POST /v1/apply: rules that can never decide', () => {
  const shadowing = {
    kind: 'Policy',
    name: 'isolate',
    priority: 100,
    appliesTo: 'has(isolated)',
    egress: [{ action: 'allow', to: { partition: 'prod' } }, { action: 'deny' }],
  };

  it('warns of each rule that can never decide, naming the rule that shadows it', async () => {
    const r = await s.call('POST', '/v1/apply', { body: { documents: [shadowing], dryRun: true } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.ruleWarnings).toEqual([
      expect.objectContaining({
        kind: 'shadowed',
        rule: expect.objectContaining({ policy: 'isolate', rule: 'egress[0]', action: 'allow' }),
        shadowedBy: [expect.objectContaining({ policy: 'isolate', rule: 'egress[1]' })],
      }),
    ]);
    expect(r.body.ruleWarnings[0].message).toContain('equal priority: deny beats allow');
  });

  it('no warning once the allow carries its own, higher priority', async () => {
    const fixed = {
      ...shadowing,
      egress: [{ ...shadowing.egress[0], priority: 101 }, shadowing.egress[1]],
    };
    const r = await s.call('POST', '/v1/apply', { body: { documents: [fixed], dryRun: true } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.ruleWarnings).toEqual([]);
  });

  it('strict refuses the apply with VNP_ERR_RULE_WARNINGS and changes nothing', async () => {
    const before = await snapshot();
    const rev = s.manager.revision;
    const r = await s.call('POST', '/v1/apply', { body: { documents: [shadowing], strict: true } });
    expect(r.status, r.text).toBe(422);
    expect(r.body.error.code).toBe('VNP_ERR_RULE_WARNINGS');
    // egress[0] never decides; egress[1] decides, but its policy selects no record yet.
    expect(r.body.error.details.warnings.map((w: { kind: string }) => w.kind)).toEqual([
      'shadowed',
      'unused',
    ]);
    expect(s.manager.revision).toBe(rev);
    expect(await snapshot()).toBe(before);
  });

  it('strict also reports a rule that matches no record; without strict it applies', async () => {
    const ghost = {
      kind: 'Policy',
      name: 'ghost',
      priority: 10,
      appliesTo: 'all()',
      egress: [{ action: 'allow', to: { selector: 'app == "nothing-has-this"' } }],
    };
    const strict = await s.call('POST', '/v1/apply', {
      body: { documents: [ghost], strict: true, dryRun: true },
    });
    expect(strict.status, strict.text).toBe(422);
    expect(strict.body.error.details.warnings[0]).toMatchObject({ kind: 'unused' });
    const plain = await s.call('POST', '/v1/apply', { body: { documents: [ghost], dryRun: true } });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.body.ruleWarnings).toEqual([]);
  });
});
