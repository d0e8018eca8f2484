import { describe, expect, it } from 'vitest';
import { VnpError } from '../../model/errors.js';
import { isUnavailable, rethrowStoreError } from './store-errors.js';

const withCode = (message: string, code: string): Error =>
  Object.assign(new Error(message), { code });

describe('store errors', () => {
  it('classifies unreachable databases', () => {
    expect(isUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(
      true,
    );
    expect(
      isUnavailable(withCode('terminating connection due to administrator command', '57P01')),
    ).toBe(true);
    expect(isUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable(withCode('syntax error at or near "SELEC"', '42601'))).toBe(false);
    expect(isUnavailable('nope')).toBe(false);
  });

  it('turns only unavailability into VNP_ERR_UNAVAILABLE', () => {
    const down = (): never => rethrowStoreError(withCode('connect ECONNREFUSED', 'ECONNREFUSED'));
    expect(down).toThrow(VnpError);
    try {
      down();
    } catch (e) {
      expect((e as VnpError).code).toBe('VNP_ERR_UNAVAILABLE');
    }
    const bug = withCode('syntax error', '42601');
    expect(() => rethrowStoreError(bug)).toThrow(bug);
    const conflict = new VnpError('VNP_ERR_CONFLICT', 'moved');
    expect(() => rethrowStoreError(conflict)).toThrow(conflict);
  });
});
