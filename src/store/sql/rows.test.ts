import { describe, expect, it } from 'vitest';
import {
  parseResourceRows,
  toChangeRecord,
  toIso,
  toRevision,
  toStored,
  toTokenRecord,
} from './rows.js';

describe('row conversions', () => {
  it('reads bigint revisions from either driver, refusing unsafe ones', () => {
    expect(toRevision('42')).toBe(42);
    expect(toRevision(42)).toBe(42);
    expect(toRevision(42n)).toBe(42);
    expect(() => toRevision('9007199254740993')).toThrow(/safe integer/);
    expect(() => toRevision(null)).toThrow();
    expect(() => toRevision('x')).toThrow();
  });

  it('reads timestamps as ISO UTC', () => {
    expect(toIso(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(toIso('2026-01-01 02:00:00+02')).toBe('2026-01-01T00:00:00.000Z');
    expect(() => toIso('nope')).toThrow();
  });

  it('parses aggregated resource rows, with offsets in timestamps', () => {
    const rows = parseResourceRows(
      '[{"kind":"Subnet","name":"a","doc":{"kind":"Subnet","name":"a","cidr":"10.0.0.0/8"},"revision":4,' +
        '"created_at":"2026-01-01T02:00:00.5+02:00","updated_at":"2026-01-01T00:00:01+00:00"}]',
    );
    expect(rows.map(toStored)).toEqual([
      {
        kind: 'Subnet',
        name: 'a',
        cidr: '10.0.0.0/8',
        revision: 4,
        createdAt: '2026-01-01T00:00:00.500Z',
        updatedAt: '2026-01-01T00:00:01.000Z',
      },
    ]);
    expect(parseResourceRows(null)).toEqual([]);
    expect(parseResourceRows('[]')).toEqual([]);
  });

  it('builds stored documents, change records and tokens', () => {
    const d = new Date('2026-01-01T00:00:00Z');
    expect(
      toStored({
        kind: 'Subnet',
        name: 'a',
        doc: '{"kind":"Subnet","name":"a","cidr":"10.0.0.0/8"}',
        revision: '2',
        created_at: d,
        updated_at: d,
      }),
    ).toEqual({
      kind: 'Subnet',
      name: 'a',
      cidr: '10.0.0.0/8',
      revision: 2,
      createdAt: d.toISOString(),
      updatedAt: d.toISOString(),
    });
    expect(toChangeRecord({ revision: 3, at: d, actor: 'a', action: 'tag', changes: [] })).toEqual({
      revision: 3,
      at: d.toISOString(),
      actor: 'a',
      action: 'tag',
      changes: [],
    });
    const row = {
      id: 't',
      role: 'agent' as const,
      host: null,
      hash: 'h',
      created_at: d,
      created_by: 'x',
      revoked_at: null,
      expires_at: null,
      last_used_at: null,
    };
    expect(toTokenRecord(row)).toEqual({
      id: 't',
      role: 'agent',
      hash: 'h',
      createdAt: d.toISOString(),
      createdBy: 'x',
    });
    expect(toTokenRecord({ ...row, host: 'h1', revoked_at: d })).toMatchObject({
      host: 'h1',
      revokedAt: d.toISOString(),
    });
    expect(toTokenRecord({ ...row, expires_at: d, last_used_at: d })).toMatchObject({
      expiresAt: d.toISOString(),
      lastUsedAt: d.toISOString(),
    });
  });
});
