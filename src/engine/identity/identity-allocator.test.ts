import { describe, expect, it } from 'vitest';
import { makeRng } from '../../../test/support/rng.js';
import {
  EMPTY_IDENTITY_FINGERPRINT,
  IdentityAllocator,
  identityFingerprint,
  type IdentitySeed,
} from './identity-allocator.js';

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

  it('reports exactly the rows that changed: applied to the previous table they give entries()', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = makeRng(seed);
      const a = new IdentityAllocator({ graceMs: 50 });
      if (seed % 2)
        a.seed(
          [
            { id: 300, key: 'k0' },
            { id: 260, key: 'k9', releasedAt: 0 },
          ],
          0,
        );
      const table = new Map<number, IdentitySeed>();
      let fingerprint = EMPTY_IDENTITY_FINGERPRINT;
      const live: number[] = [];
      let now = 0;
      for (let step = 0; step < 200; step++) {
        now += rng.int(0, 20);
        const op = rng.int(0, 3);
        if (op === 0 || live.length === 0) live.push(a.retain(`k${rng.int(0, 12)}`).id);
        else if (op === 1) a.release(live.splice(rng.int(0, live.length - 1), 1)[0]!, now);
        else if (op === 2) a.sweep(now);
        else {
          const id = live[rng.int(0, live.length - 1)]!;
          const key = `r${rng.int(0, 1000)}`;
          if (a.idOf(key) === undefined) a.rekey(id, key);
        }
        if (rng.int(0, 2) > 0) continue; // changes accumulate across several operations
        const c = a.takeChanges();
        expect(c.before).toBe(fingerprint);
        for (const id of c.remove) table.delete(id); // possibly never reported: harmless
        for (const r of c.upsert) table.set(r.id, r);
        const rows = [...table.values()].sort((x, y) => x.id - y.id);
        expect(rows).toEqual(a.entries());
        expect(c.after).toBe(identityFingerprint(rows));
        expect(a.fingerprint()).toBe(c.after);
        fingerprint = c.after;
      }
    }
  });

  it('fingerprints tell different tables apart', () => {
    const f = identityFingerprint;
    expect(f([{ id: 256, key: 'a' }])).not.toBe(f([{ id: 257, key: 'a' }]));
    expect(f([{ id: 256, key: 'a' }])).not.toBe(f([{ id: 256, key: 'b' }]));
    expect(f([{ id: 256, key: 'a' }])).not.toBe(f([{ id: 256, key: 'a', releasedAt: 5 }]));
    expect(f([])).toBe(EMPTY_IDENTITY_FINGERPRINT);
  });
});
