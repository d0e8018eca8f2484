import { describe, expect, it } from 'vitest';
import { VnpError } from '../../model/errors.js';
import { openPostgresStore } from './postgres-store.js';

describe('openPostgresStore', () => {
  it('reports an unreachable server as VNP_ERR_UNAVAILABLE', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const e = await openPostgresStore({ url: 'postgres://vnp@127.0.0.1:1/vnp' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(VnpError);
    expect((e as VnpError).code).toBe('VNP_ERR_UNAVAILABLE');
  });
});
