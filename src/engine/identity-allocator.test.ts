import { describe, expect, it } from 'vitest';
import { IdentityAllocator } from './identity-allocator.js';

describe('IdentityAllocator', () => {
  it('starts after the reserved range and is deterministic', () => {
    const a = new IdentityAllocator();
    const b = new IdentityAllocator();
    expect(['x', 'y', 'z'].map((k) => a.retain(k).id)).toEqual([256, 257, 258]);
    expect(['x', 'y', 'z'].map((k) => b.retain(k).id)).toEqual([256, 257, 258]);
  });

  it('counts references and shares one id per key', () => {
    const a = new IdentityAllocator();
    expect(a.retain('k')).toEqual({ id: 256, created: true });
    expect(a.retain('k')).toEqual({ id: 256, created: false });
    expect(a.refs(256)).toBe(2);
  });

  it('keeps a released id bound to its key during the grace period', () => {
    const a = new IdentityAllocator({ graceMs: 1000 });
    const { id } = a.retain('k');
    a.release(id, 5000);
    expect(a.sweep(5999)).toEqual([]);
    expect(a.retain('k')).toEqual({ id, created: false }); // flapping back keeps the number
    a.release(id, 6000);
    expect(a.sweep(7000)).toEqual([id]);
    expect(a.idOf('k')).toBeUndefined();
  });

  it('reuses the lowest freed id first, only after the grace period', () => {
    const a = new IdentityAllocator({ graceMs: 10 });
    const ids = ['a', 'b', 'c'].map((k) => a.retain(k).id);
    a.release(ids[2]!, 0);
    a.release(ids[0]!, 0);
    expect(a.retain('d').id).toBe(259); // still in grace: not reused
    a.sweep(10);
    expect(a.retain('e').id).toBe(256);
    expect(a.retain('f').id).toBe(258);
  });

  it('refuses to release more than retained', () => {
    const a = new IdentityAllocator();
    expect(() => a.release(300, 0)).toThrow(/released more often/);
  });

  it('rekeys a live id in place', () => {
    const a = new IdentityAllocator();
    const { id } = a.retain('old');
    a.rekey(id, 'new');
    expect(a.idOf('new')).toBe(id);
    expect(a.idOf('old')).toBeUndefined();
  });
});
