import { describe, expect, it } from 'vitest';
import { stripMeta } from './strip-meta.js';

describe('stripMeta', () => {
  it('drops revision, createdAt and updatedAt and keeps every other field', () => {
    const held = {
      kind: 'Interface',
      name: 'web-1',
      subnet: 'net',
      ips: ['10.0.0.5'],
      tags: { role: 'web' },
      revision: 7,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
    };
    expect(stripMeta(held)).toEqual({
      kind: 'Interface',
      name: 'web-1',
      subnet: 'net',
      ips: ['10.0.0.5'],
      tags: { role: 'web' },
    });
  });

  it('returns a copy and leaves the input untouched', () => {
    const held = { name: 'a', revision: 1 };
    const out = stripMeta(held);
    expect(out).not.toBe(held);
    expect(held).toEqual({ name: 'a', revision: 1 });
  });

  it('is the identity (as a copy) on a document without metadata', () => {
    const doc = { kind: 'Subnet', name: 'n', cidr: '10.0.0.0/24' };
    expect(stripMeta(doc)).toEqual(doc);
  });
});
