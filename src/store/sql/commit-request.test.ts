import { describe, expect, it } from 'vitest';
import { VnpError } from '../../model/errors.js';
import type { Document } from '../../model/types.js';
import type { CommitRequest } from '../types.js';
import { prepareCommit } from './commit-request.js';

const base: CommitRequest = {
  baseRevision: 3,
  actor: 'a',
  action: 'apply',
  at: '2026-01-01T00:00:00Z',
  puts: [],
  deletes: [],
};

function codeOf(fn: () => unknown): [string, unknown] {
  try {
    fn();
  } catch (e) {
    if (e instanceof VnpError) return [e.code, e.details?.field];
    throw e;
  }
  throw new Error('expected a VnpError');
}

describe('prepareCommit', () => {
  it('normalizes the time to ISO UTC with milliseconds', () => {
    expect(prepareCommit(base).at).toBe('2026-01-01T00:00:00.000Z');
    expect(prepareCommit({ ...base, at: '2026-01-01T02:00:00+02:00' }).at).toBe(
      '2026-01-01T00:00:00.000Z',
    );
  });

  it('strips server-set metadata from puts', () => {
    const put = {
      kind: 'Subnet',
      name: 's',
      cidr: '10.0.0.0/8',
      revision: 9,
      createdAt: 'x',
      updatedAt: 'y',
    };
    expect(prepareCommit({ ...base, puts: [put as unknown as Document] }).puts).toEqual([
      { kind: 'Subnet', name: 's', cidr: '10.0.0.0/8' },
    ]);
  });

  it('rejects bad base revisions and times, naming the field', () => {
    expect(codeOf(() => prepareCommit({ ...base, baseRevision: -1 }))).toEqual([
      'VNP_ERR_VALIDATION',
      'baseRevision',
    ]);
    expect(codeOf(() => prepareCommit({ ...base, baseRevision: 1.5 }))).toEqual([
      'VNP_ERR_VALIDATION',
      'baseRevision',
    ]);
    expect(codeOf(() => prepareCommit({ ...base, at: 'yesterday' }))).toEqual([
      'VNP_ERR_VALIDATION',
      'at',
    ]);
  });

  it('rejects a key named twice, by puts or deletes', () => {
    const s: Document = { kind: 'Subnet', name: 's', cidr: '10.0.0.0/8' };
    expect(codeOf(() => prepareCommit({ ...base, puts: [s, s] }))).toEqual([
      'VNP_ERR_VALIDATION',
      'puts[1]',
    ]);
    expect(
      codeOf(() =>
        prepareCommit({
          ...base,
          deletes: [
            { kind: 'Policy', name: 'p' },
            { kind: 'Policy', name: 'p' },
          ],
        }),
      ),
    ).toEqual(['VNP_ERR_VALIDATION', 'deletes[1]']);
    // Same name, different kinds: distinct resources.
    expect(
      prepareCommit({ ...base, puts: [s], deletes: [{ kind: 'Policy', name: 's' }] }).deletes,
    ).toHaveLength(1);
  });
});
