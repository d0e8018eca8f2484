import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_KINDS, stateOf } from '../../src/reactions/history.js';
import { startTestServer, type TestServer } from '../server/support/test-server.js';
import { quarantineDocuments } from './support.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

const policyState = () => stateOf(s.manager.engine.allDocuments(), POLICY_KINDS);

describe('history, diff, rollback, impact, who-can-reach', () => {
  it('rolls back the policy state: apply A, apply B, rollback to A → policy state equals A', async () => {
    const docs = quarantineDocuments().filter((d) => d.kind !== 'Test');
    const a = await s.call('POST', '/v1/apply', { body: { documents: docs } });
    expect(a.status).toBe(200);
    const revA = a.body.revision as number;
    const stateA = policyState();

    // B: change a policy, delete a reaction, add a partition, change settings, and retag a record.
    const b1 = await s.call('POST', '/v1/apply', {
      body: {
        documents: [
          {
            kind: 'Policy',
            name: 'quarantine-isolate',
            priority: 100,
            appliesTo: 'has(quarantine)',
            ingress: [{ action: 'deny' }],
          },
          { kind: 'Partition', name: 'extra', selector: 'app == "db"', intra: 'deny' },
          { kind: 'Partition', name: 'prod', selector: 'env == "prod"', intra: 'deny' },
          {
            kind: 'Settings',
            name: 'default',
            defaults: { unpartitioned: 'deny', crossPartition: 'deny' },
          },
          {
            kind: 'Interface',
            name: 'db-1',
            subnet: 'lab',
            ips: ['10.20.0.20'],
            tags: { app: 'db', env: 'prod', x: 1 },
          },
        ],
      },
    });
    expect(b1.status).toBe(200);
    const del = await s.call('DELETE', '/v1/reactions/quarantine-suricata');
    expect(del.status).toBeLessThan(300);
    expect(policyState()).not.toEqual(stateA);

    const hist = await s.call('GET', '/v1/history?limit=5', { as: 'viewer' });
    expect(hist.status).toBe(200);
    expect(hist.body.items[0].summary).toContain('Reaction/quarantine-suricata');

    const diff = await s.call('GET', `/v1/diff?from=${revA}&to=${s.manager.revision}`, {
      as: 'viewer',
    });
    expect(diff.status).toBe(200);
    expect(
      diff.body.changes.map(
        (c: { kind: string; name: string; op: string }) => `${c.op} ${c.kind}/${c.name}`,
      ),
    ).toEqual([
      'replace Interface/db-1',
      'create Partition/extra',
      'replace Partition/prod',
      'replace Policy/quarantine-isolate',
      'delete Reaction/quarantine-suricata',
      'create Settings/default',
    ]);

    const preview = await s.call('POST', '/v1/rollback', {
      body: { revision: revA, dryRun: true },
    });
    expect(preview.status).toBe(200);
    expect(preview.body.dryRun).toBe(true);
    expect(preview.body.diff.length).toBe(5);
    expect(preview.body.impact.rows.length).toBeGreaterThan(0);
    expect(policyState()).not.toEqual(stateA);

    const rb = await s.call('POST', '/v1/rollback', { body: { revision: revA } });
    expect(rb.status).toBe(200);
    expect(policyState()).toEqual(
      new Map(
        [...stateA]
          .filter(([k]) => !k.startsWith('Settings/'))
          .concat([...policyState()].filter(([k]) => k.startsWith('Settings/'))),
      ),
    );
    // Settings were never set at A: the rollback restores the defaults.
    expect(s.manager.engine.get('Settings', 'default')).toMatchObject({
      defaults: { unpartitioned: 'allow', crossPartition: 'deny' },
    });
    // Records are not rolled back.
    expect((s.manager.engine.get('Interface', 'db-1') as { tags: object }).tags).toMatchObject({
      x: 1,
    });
    const last = await s.call('GET', '/v1/history?limit=1');
    expect(last.body.items[0].action).toBe(`rollback:${revA}`);
    // Rolling back to where we are changes nothing.
    const again = await s.call('POST', '/v1/rollback', { body: { revision: s.manager.revision } });
    expect(again.body.diff).toEqual([]);
  });

  it('previews the impact of a batch and answers who can reach a record', async () => {
    const imp = await s.call('POST', '/v1/impact', {
      as: 'viewer',
      body: {
        documents: [
          {
            kind: 'Interface',
            name: 'web-1',
            subnet: 'lab',
            ips: ['10.20.0.10'],
            tags: { app: 'web', env: 'prod', quarantine: true },
          },
        ],
      },
    });
    expect(imp.status).toBe(200);
    const flips = imp.body.impact.rows as {
      src: { examples: string[] };
      dst: { examples: string[] };
      before: string;
      after: string;
    }[];
    expect(
      flips.some(
        (r) =>
          r.src.examples.includes('web-1') &&
          r.dst.examples.includes('db-1') &&
          r.before === 'allow' &&
          r.after === 'deny',
      ),
    ).toBe(true);
    expect(s.manager.engine.get('Interface', 'web-1')).not.toMatchObject({
      tags: { quarantine: true },
    });

    const who = await s.call('GET', '/v1/who-can-reach?dst=db-1&proto=tcp&port=5432', {
      as: 'viewer',
    });
    expect(who.status).toBe(200);
    const names = who.body.sources.flatMap((x: { examples: string[] }) => x.examples);
    expect(names).toContain('web-1');
    expect(names).toContain('forensics-1');
    const bad = await s.call('GET', '/v1/who-can-reach?dst=nope', { as: 'viewer' });
    expect(bad.status).toBe(422);
  });
});
