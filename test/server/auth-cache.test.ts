import { describe, expect, it } from 'vitest';
import { TokenAuthenticator } from '../../src/server/auth.js';
import { hashSecret, newToken } from '../../src/server/token-secret.js';
import type { Store, TokenRecord } from '../../src/store/types.js';

/** Only what the authenticator reads: tokens by id, counting reads. */
function tokenStore(records: Map<string, TokenRecord>): Store & { reads: number } {
  const s = {
    reads: 0,
    async getToken(id: string) {
      s.reads++;
      return records.get(id);
    },
  };
  return s as unknown as Store & { reads: number };
}

describe('token verification cache', () => {
  it('serves cached verifications without waiting on the store, and sees a revocation by another manager', async () => {
    const { id, secret, token } = newToken();
    const records = new Map<string, TokenRecord>([
      [
        id,
        {
          id,
          role: 'agent',
          host: 'h1',
          hash: await hashSecret(secret),
          createdAt: '',
          createdBy: 'test',
        },
      ],
    ]);
    const store = tokenStore(records);
    let now = 0;
    const auth = new TokenAuthenticator(store, () => now, 5000);
    const header = `Bearer ${token}`;
    expect((await auth.authenticate(header)).host).toBe('h1');
    const readsAfterVerify = store.reads;
    for (let i = 0; i < 100; i++) await auth.authenticate(header); // cached: no store reads
    expect(store.reads).toBe(readsAfterVerify);

    // Another manager revokes it; past the recheck interval one background read notices.
    records.set(id, { ...records.get(id)!, revokedAt: 'now' });
    now = 6000;
    await auth.authenticate(header); // still served from the cache while the read runs
    await new Promise((r) => setImmediate(r));
    await expect(auth.authenticate(header)).rejects.toMatchObject({
      code: 'VNP_ERR_UNAUTHENTICATED',
    });
    expect(store.reads).toBe(readsAfterVerify + 2); // one background read, then one verify
  });
});
