import { describe, expect, it } from 'vitest';
import type { Document } from '../model/types.js';
import { VnpError } from '../model/errors.js';
import { Engine } from './engine.js';

const subnet: Document = { kind: 'Subnet', name: 'net', cidr: '10.0.0.0/24' };
const iface = (
  name: string,
  ip: string,
  tags: Record<string, string | number | boolean>,
): Document => ({ kind: 'Interface', name, subnet: 'net', ips: [ip], tags });
const allowWebToDb: Document = {
  kind: 'Policy',
  name: 'web-to-db',
  priority: 100,
  appliesTo: 'app == "db"',
  ingress: [{ action: 'allow', from: { selector: 'app == "web"' }, ports: ['tcp/5432'] }],
  egress: [],
  routes: [],
  mode: 'enforce',
};
const webOut: Document = {
  kind: 'Policy',
  name: 'web-out',
  priority: 100,
  appliesTo: 'app == "web"',
  ingress: [],
  egress: [{ action: 'allow', to: { selector: 'app == "db"' }, ports: ['tcp/5432'] }],
  routes: [],
  mode: 'enforce',
};
const dbPartition: Document = {
  kind: 'Partition',
  name: 'data',
  selector: 'app == "db" || app == "web"',
  intra: 'deny',
};

function engine(...extra: Document[]): Engine {
  const e = new Engine({ identityGraceMs: 1000 });
  e.load(
    [
      subnet,
      iface('web-1', '10.0.0.1', { app: 'web', owner: 'ann' }),
      iface('web-2', '10.0.0.2', { app: 'web', owner: 'bob' }),
      iface('db-1', '10.0.0.3', { app: 'db' }),
      allowWebToDb,
      webOut,
      dbPartition,
      ...extra,
    ],
    0,
  );
  return e;
}

function expectError(fn: () => unknown, code: string, field?: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VnpError);
    expect((e as VnpError).code).toBe(code);
    if (field !== undefined) expect((e as VnpError).details?.field).toBe(field);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('Engine identities', () => {
  it('tags no selector reads never split identities', () => {
    const e = engine();
    expect(e.recordIdentity('web-1')).toBe(e.recordIdentity('web-2'));
    expect(e.identityInfo(e.recordIdentity('web-1')!)?.tags).toEqual({ app: 'web' });
  });

  it('a selector reading a new key re-derives identities', () => {
    const e = engine();
    const before = e.recordIdentity('web-1');
    const delta = e.apply(
      [
        {
          op: 'put',
          doc: { ...allowWebToDb, name: 'ann-only', appliesTo: 'owner == "ann"' } as Document,
        },
      ],
      1,
    );
    expect(e.recordIdentity('web-1')).not.toBe(e.recordIdentity('web-2'));
    expect(e.identityInfo(e.recordIdentity('web-1')!)?.tags).toEqual({ app: 'web', owner: 'ann' });
    expect([e.recordIdentity('web-1'), e.recordIdentity('web-2')]).toContain(before);
    expect(delta.ipcacheUpsert.length).toBeGreaterThan(0);
    // and the verdicts still follow the policy
    expect(e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict).toBe(
      'allow',
    );
  });

  it('a retag onto an existing identity only moves the ipcache entry', () => {
    const e = engine(iface('web-3', '10.0.0.4', { app: 'db' }));
    const delta = e.apply([{ op: 'put', doc: iface('web-3', '10.0.0.4', { app: 'web' }) }], 1);
    expect(delta.identitiesAdded).toEqual([]);
    expect(delta.ipcacheUpsert).toEqual([{ ip: '10.0.0.4', identity: e.recordIdentity('web-1') }]);
    expect(delta.sides).toEqual([]);
  });

  it('a retag onto a new identity reports it and the sides whose peers changed', () => {
    const e = engine();
    const delta = e.apply(
      [{ op: 'put', doc: iface('web-2', '10.0.0.2', { app: 'web', quarantine: true }) }],
      1,
    );
    expect(delta.identitiesAdded).toEqual([]); // quarantine is read by no selector
    const d2 = e.apply([{ op: 'put', doc: iface('web-2', '10.0.0.2', { app: 'cache' }) }], 2);
    expect(d2.identitiesAdded.map((i) => i.tags)).toEqual([{ app: 'cache' }]);
    expect(e.check({ src: 'web-2', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict).toBe(
      'deny',
    );
  });

  it('releases an identity after the grace period and reuses the lowest id', () => {
    const e = engine();
    const db = e.recordIdentity('db-1')!;
    e.apply([{ op: 'delete', kind: 'Interface', name: 'db-1' }], 10);
    expect(e.identityInfo(db)).toBeDefined(); // still in grace
    const d = e.apply([], 2000);
    expect(d.identitiesReleased).toEqual([db]);
    expect(e.identityInfo(db)).toBeUndefined();
    e.apply([{ op: 'put', doc: iface('db-2', '10.0.0.9', { app: 'db' }) }], 2001);
    expect(e.recordIdentity('db-2')).toBe(db);
  });
});

describe('Engine validation is all or nothing', () => {
  it('names the missing reference', () => {
    const e = engine();
    expectError(
      () =>
        e.apply(
          [{ op: 'put', doc: { ...iface('x', '10.0.0.8', {}), subnet: 'nope' } as Document }],
          1,
        ),
      'VNP_ERR_REFERENCE',
      'subnet',
    );
    expectError(
      () =>
        e.apply(
          [
            {
              op: 'put',
              doc: {
                ...allowWebToDb,
                ingress: [{ action: 'allow', from: { partition: 'ghost' } }],
              } as Document,
            },
          ],
          1,
        ),
      'VNP_ERR_REFERENCE',
      'ingress[0].from.partition',
    );
  });

  it('refuses a taken address, an address outside the subnet, and a duplicate in one batch', () => {
    const e = engine();
    expectError(
      () => e.apply([{ op: 'put', doc: iface('x', '10.0.0.1', {}) }], 1),
      'VNP_ERR_ADDRESS',
      'ips[0]',
    );
    expectError(
      () => e.apply([{ op: 'put', doc: iface('x', '10.9.0.1', {}) }], 1),
      'VNP_ERR_ADDRESS',
      'ips[0]',
    );
    expectError(
      () =>
        e.apply(
          [
            { op: 'put', doc: iface('x', '10.0.0.50', {}) },
            { op: 'put', doc: iface('y', '10.0.0.50', {}) },
          ],
          1,
        ),
      'VNP_ERR_ADDRESS',
    );
  });

  it('lets two records swap addresses in one batch', () => {
    const e = engine();
    const d = e.apply(
      [
        { op: 'put', doc: iface('web-1', '10.0.0.2', { app: 'web' }) },
        { op: 'put', doc: iface('web-2', '10.0.0.1', { app: 'web' }) },
      ],
      1,
    );
    expect(d.ipcacheRemove).toEqual([]);
    expect(e.check({ src: '10.0.0.2', dst: 'db-1', protocol: 'tcp', port: 5432 }).src.record).toBe(
      'web-1',
    );
  });

  it('refuses to delete what is still referenced', () => {
    const e = engine();
    expectError(
      () => e.apply([{ op: 'delete', kind: 'Subnet', name: 'net' }], 1),
      'VNP_ERR_CONFLICT',
    );
    expectError(
      () => e.apply([{ op: 'delete', kind: 'Policy', name: 'nope' }], 1),
      'VNP_ERR_NOT_FOUND',
    );
    expectError(
      () => e.apply([{ op: 'delete', kind: 'Settings', name: 'default' }], 1),
      'VNP_ERR_CONFLICT',
    );
  });

  it('a failing batch changes nothing', () => {
    const e = engine();
    const before = JSON.stringify([
      e.list('Interface'),
      e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }),
    ]);
    expect(() =>
      e.apply(
        [
          { op: 'put', doc: iface('web-1', '10.0.0.1', { app: 'db' }) },
          { op: 'put', doc: iface('z', '10.0.0.3', {}) },
        ],
        1,
      ),
    ).toThrow(VnpError);
    expect(
      JSON.stringify([
        e.list('Interface'),
        e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }),
      ]),
    ).toBe(before);
  });
});

describe('Engine reads', () => {
  it('fork is independent', () => {
    const e = engine();
    const f = e.fork();
    f.apply([{ op: 'delete', kind: 'Policy', name: 'web-to-db' }], 1);
    expect(e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict).toBe(
      'allow',
    );
    expect(f.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 }).verdict).toBe(
      'deny',
    );
  });

  it('diff says create, replace, unchanged and delete', () => {
    const e = engine();
    const ops = e.diff([
      { op: 'put', doc: iface('new', '10.0.0.20', {}) },
      { op: 'put', doc: { ...allowWebToDb, priority: 5 } as Document },
      { op: 'put', doc: subnet },
      { op: 'delete', kind: 'Partition', name: 'data' },
    ]);
    expect(ops.map((o) => o.op)).toEqual(['create', 'replace', 'unchanged', 'delete']);
  });

  it('select, verdict fast path and check agree', () => {
    const e = engine();
    expect(e.select('app == "web"')).toEqual(['web-1', 'web-2']);
    for (const [s, d, port] of [
      ['web-1', 'db-1', 5432],
      ['web-1', 'db-1', 5433],
      ['db-1', 'web-1', 80],
      ['web-1', 'web-2', 80],
    ] as const) {
      expect(e.verdict(s, d, 'tcp', port)).toBe(
        e.check({ src: s, dst: d, protocol: 'tcp', port }).verdict === 'allow',
      );
    }
  });

  it('rejects unknown endpoints and bad ports with the field', () => {
    const e = engine();
    expectError(
      () => e.check({ src: 'nobody', dst: 'db-1', port: 1 }),
      'VNP_ERR_UNKNOWN_ENDPOINT',
      'src',
    );
    expectError(
      () => e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp' }),
      'VNP_ERR_VALIDATION',
      'port',
    );
    expect(e.check({ src: 'web-1', dst: 'db-1', protocol: 'icmp' }).verdict).toBe('deny');
  });
});

describe('Engine.flowTable', () => {
  it('matches check on every port boundary', () => {
    const e = engine();
    const [web, db] = [e.recordIdentity('web-1')!, e.recordIdentity('db-1')!];
    const table = e.flowTable({ identity: web }, { identity: db });
    expect(table.filter((s) => s.proto === 'tcp')).toEqual([
      { proto: 'tcp', lo: 0, hi: 5431, verdict: 'deny' },
      { proto: 'tcp', lo: 5432, hi: 5432, verdict: 'allow' },
      { proto: 'tcp', lo: 5433, hi: 65535, verdict: 'deny' },
    ]);
    for (const port of [1, 5431, 5432, 5433, 65535]) {
      const seg = table.find((s) => s.proto === 'tcp' && s.lo <= port && port <= s.hi)!;
      expect(seg.verdict).toBe(
        e.check({ src: 'web-1', dst: 'db-1', protocol: 'tcp', port }).verdict,
      );
    }
  });
});

describe('Engine.diff of Settings', () => {
  it('compares against the defaults when Settings was never set', () => {
    const e = engine();
    const same = {
      kind: 'Settings',
      name: 'default',
      defaults: { unpartitioned: 'allow', crossPartition: 'deny' },
    } as Document;
    expect(e.diff([{ op: 'put', doc: same }])[0]!.op).toBe('unchanged');
    const other = {
      kind: 'Settings',
      name: 'default',
      defaults: { unpartitioned: 'deny', crossPartition: 'deny' },
    } as Document;
    expect(e.diff([{ op: 'put', doc: other }])[0]!.op).toBe('replace');
  });
});

describe('EngineDelta.defaults', () => {
  it('lists unpartitioned identities when a peer becomes partitioned (their default rows list it)', () => {
    const e = engine(iface('lonely', '10.0.0.40', { app: 'lonely' }));
    const lonely = e.recordIdentity('lonely')!;
    expect(e.identityInfo(lonely)?.partitions).toEqual([]);
    const d = e.apply(
      [{ op: 'put', doc: iface('cache-1', '10.0.0.41', { app: 'db', tier: 9 }) }],
      1,
    );
    // cache-1 shares db's identity: nothing became partitioned.
    expect(d.defaults).not.toContain(lonely);
    const d2 = e.apply(
      [
        {
          op: 'put',
          doc: {
            kind: 'Partition',
            name: 'more',
            selector: 'app == "lonely2"',
            intra: 'allow',
          } as Document,
        },
        { op: 'put', doc: iface('l2', '10.0.0.42', { app: 'lonely2' }) },
      ],
      2,
    );
    expect(d2.defaults).toContain(lonely);
  });
});
