/**
 * Store conformance, token lifecycle (part of the suite in conformance.ts): the
 * last-admin guard, expiry, and batched last-use times, on every backend.
 */
import { expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import type { Store, TokenRecord } from './types.js';

type Fresh = () => Promise<{ store: Store; location: string }>;
type Open = (location: string) => Promise<Store>;

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';
const T3 = '2026-01-01T00:00:03.000Z';

const token = (id: string, role: TokenRecord['role'], over: Partial<TokenRecord> = {}) =>
  ({ id, role, hash: 'scrypt$x', createdAt: T0, createdBy: 'test', ...over }) as TokenRecord;

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof VnpError) return e.code;
    throw e;
  }
}

/**
 * The token lifecycle tests; `shared` backends also race two stores on one database.
 *
 * @example
 *   describeTokenLifecycle(fresh, open, harness.shared);
 */
export function describeTokenLifecycle(fresh: Fresh, open: Open, shared: boolean): void {
  it('never revokes the last live admin token', async () => {
    const { store } = await fresh();
    await store.putToken(token('a1', 'admin'));
    await store.putToken(token('a2', 'admin'));
    await store.putToken(token('v', 'viewer'));
    expect(await store.revokeToken('a1', T1)).toBe(true);
    expect(await codeOf(store.revokeToken('a2', T1))).toBe('VNP_ERR_LAST_ADMIN');
    expect((await store.getToken('a2'))?.revokedAt).toBeUndefined();
    // Non-admins are unaffected; an expired admin does not count as live.
    expect(await store.revokeToken('v', T1)).toBe(true);
    await store.putToken(token('a3', 'admin', { expiresAt: T2 }));
    expect(await store.revokeToken('a2', T1)).toBe(true);
    expect(await codeOf(store.revokeToken('a3', T2))).toBe('VNP_ERR_LAST_ADMIN');
  });

  it('expires tokens at the earlier of two times; revoked or unknown ones are left alone', async () => {
    const { store } = await fresh();
    await store.putToken(token('t', 'viewer'));
    expect(await store.expireToken('t', T2)).toBe(true);
    expect((await store.getToken('t'))?.expiresAt).toBe(T2);
    expect(await store.expireToken('t', T3)).toBe(true);
    expect((await store.getToken('t'))?.expiresAt).toBe(T2);
    expect(await store.expireToken('t', T1)).toBe(true);
    expect((await store.getToken('t'))?.expiresAt).toBe(T1);
    expect(await store.expireToken('nope', T1)).toBe(false);
    await store.revokeToken('t', T1);
    expect(await store.expireToken('t', T0)).toBe(false);
    await store.putToken(token('x', 'viewer', { expiresAt: T3 }));
    expect(await store.getToken('x')).toEqual(token('x', 'viewer', { expiresAt: T3 }));
    expect(await codeOf(store.putToken(token('y', 'viewer', { expiresAt: 'later' })))).toBe(
      'VNP_ERR_VALIDATION',
    );
  });

  it('records last uses in batches; the later time wins', async () => {
    const { store } = await fresh();
    await store.putToken(token('a', 'admin'));
    await store.putToken(token('b', 'agent', { host: 'h' }));
    await store.touchTokens([]);
    await store.touchTokens([
      { id: 'a', at: T2 },
      { id: 'b', at: T1 },
      { id: 'ghost', at: T1 },
    ]);
    await store.touchTokens([{ id: 'a', at: T1 }]);
    expect((await store.getToken('a'))?.lastUsedAt).toBe(T2);
    expect((await store.getToken('b'))?.lastUsedAt).toBe(T1);
    expect((await store.listTokens()).map((listed) => listed.id)).toEqual(['a', 'b']);
    expect(await codeOf(store.touchTokens([{ id: 'a', at: 'now' }]))).toBe('VNP_ERR_VALIDATION');
    // Tokens are not resources: none of this moves the revision.
    expect(await store.revision()).toBe(0);
  });

  if (shared) {
    it('two stores revoking the last two admins at once: exactly one succeeds', async () => {
      const { store, location } = await fresh();
      const other = await open(location);
      for (let round = 0; round < 5; round++) {
        const [x, y] = [`x${round}`, `y${round}`];
        await store.putToken(token(x, 'admin'));
        await store.putToken(token(y, 'admin'));
        // Earlier rounds' survivors would keep the guard from firing: revoke them first.
        for (const listed of await store.listTokens()) {
          if (listed.role === 'admin' && !listed.revokedAt && listed.id !== x && listed.id !== y)
            await store.revokeToken(listed.id, T1);
        }
        const results = await Promise.allSettled([
          store.revokeToken(x, T1),
          other.revokeToken(y, T1),
        ]);
        const ok = results.filter((r) => r.status === 'fulfilled' && r.value === true);
        expect(ok).toHaveLength(1);
        const live = (await store.listTokens()).filter(
          (listed) => listed.role === 'admin' && !listed.revokedAt,
        );
        expect(live).toHaveLength(1);
      }
    });
  }
}
