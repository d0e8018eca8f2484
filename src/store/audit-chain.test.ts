import { describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../model/change-log.js';
import { GENESIS_HASH, entryHash } from './audit-chain.js';

describe('entryHash', () => {
  it('is the hash every stored chain was written with (canonical JSON pinned)', () => {
    // Computed by the first implementation (filter/sort/map/join): any rewrite of the
    // canonical form must give the same hash, or every existing chain would break.
    const record = {
      revision: 7,
      at: '2026-12-08T01:00:00Z',
      actor: 'admin:ab12',
      action: 'patch-tags',
      changes: [
        {
          op: 'put',
          kind: 'Interface',
          name: 'web-1',
          before: {
            kind: 'Interface',
            name: 'web-1',
            subnet: 'lan',
            ips: ['10.0.0.5'],
            tags: { z: 'last', app: 'web', é: 1, '"q"': true, n: null },
            revision: 6,
            createdAt: '2026-12-08T00:00:00.000Z',
            updatedAt: '2026-12-08T00:00:00.000Z',
            gone: undefined,
          },
          after: {
            kind: 'Interface',
            name: 'web-1',
            list: [1, undefined, { b: 2, a: [] }],
            big: 1e21,
            neg: -0.5,
          },
        },
      ],
    } as unknown as ChangeRecord;
    expect(entryHash(GENESIS_HASH, record)).toBe(
      '7b2b6d42a3187537cb46d1de8a6747bcc0c45e84ea0e83833e0a8c8b29c35390',
    );
  });

  it('does not depend on key order', () => {
    const a = { revision: 1, at: '2026-01-01T00:00:00Z', actor: 'x', action: 'y', changes: [] };
    const b = { changes: [], action: 'y', actor: 'x', at: '2026-01-01T00:00:00.000Z', revision: 1 };
    expect(entryHash(GENESIS_HASH, a)).toBe(entryHash(GENESIS_HASH, b));
  });
});
