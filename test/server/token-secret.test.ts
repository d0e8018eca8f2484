import { describe, expect, it } from 'vitest';
import { hashSecret, newToken, parseToken, verifySecret } from '../../src/server/token-secret.js';

describe('tokens', () => {
  it('round-trips the vnp_<id>_<secret> format', () => {
    const t = newToken();
    expect(t.token).toBe(`vnp_${t.id}_${t.secret}`);
    expect(parseToken(t.token)).toEqual({ id: t.id, secret: t.secret });
  });

  it('rejects tokens that are not ours', () => {
    for (const bad of ['', 'vnp_', 'vnp_zz_abc', 'Bearer vnp_ab_cd', 'vnp_ab_cd_ef', 'xyz_ab_cd']) {
      expect(parseToken(bad)).toBeUndefined();
    }
  });

  it('stores a scrypt hash that verifies the secret and nothing else', async () => {
    const { secret } = newToken();
    const hash = await hashSecret(secret);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain(secret);
    expect(await verifySecret(secret, hash)).toBe(true);
    expect(await verifySecret(secret + 'x', hash)).toBe(false);
    expect(await verifySecret(secret, 'plain$text')).toBe(false);
    expect(await hashSecret(secret)).not.toBe(hash); // salted
  });
});
