/**
 * API token format and hashing. A token is `vnp_<id>_<secret>`: the id is public
 * (it names the token in the audit log and in `DELETE /v1/tokens/{id}`), the
 * secret is shown once and only its scrypt hash is stored.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost: N=2^14, r=8, p=1 (~16 MiB, tens of ms): costly to brute-force offline. */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LEN = 32;

function scryptAsync(
  secret: string,
  salt: Buffer,
  keyLen: number,
  opts: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLen, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * A fresh token: random id and secret.
 *
 * @example
 *   const { id, secret, token } = newToken(); // token === `vnp_${id}_${secret}`
 */
export function newToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(24).toString('base64url').replace(/_/g, '-');
  return { id, secret, token: `vnp_${id}_${secret}` };
}

/**
 * Split a presented token into id and secret; undefined when it is not one of ours.
 *
 * @example
 *   parseToken('vnp_0a1b_s3cr3t') // { id: '0a1b', secret: 's3cr3t' }
 */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = /^vnp_([0-9a-f]{1,64})_([A-Za-z0-9-]{1,200})$/.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/**
 * Hash a secret as `scrypt$N$r$p$salt$hash` (base64).
 *
 * @example
 *   const h = await hashSecret('s3cr3t'); await verifySecret('s3cr3t', h) // true
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, KEY_LEN, PARAMS);
  return [
    'scrypt',
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

/**
 * Compare a secret with a stored hash in constant time. A malformed hash never matches.
 *
 * @example
 *   await verifySecret('wrong', h) // false
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length === 0) return false;
  const actual = await scryptAsync(secret, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}
