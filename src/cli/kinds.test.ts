import { describe, expect, it } from 'vitest';
import { KINDS } from '../model/types.js';
import { VnpError } from '../model/errors.js';
import { kindAliases, kindHelp, parseKind } from './kinds.js';

describe('parseKind', () => {
  it.each([
    ['iface', 'Interface'],
    ['interfaces', 'Interface'],
    ['Interface', 'Interface'],
    ['IFACE', 'Interface'],
    ['pol', 'Policy'],
    ['policies', 'Policy'],
    ['part', 'Partition'],
    ['vnp', 'Partition'],
    ['sn', 'Subnet'],
    ['subnets', 'Subnet'],
    ['inst', 'Instance'],
    ['reactions', 'Reaction'],
    ['settings', 'Settings'],
    [' iface ', 'Interface'],
  ])('%s → %s', (arg, kind) => {
    expect(parseKind(arg)).toBe(kind);
  });

  it('accepts singular and plural of every kind', () => {
    for (const kind of KINDS) {
      expect(parseKind(kind)).toBe(kind);
      for (const alias of kindAliases(kind)) expect(parseKind(alias)).toBe(kind);
    }
  });

  it('no alias names two kinds', () => {
    const all = KINDS.flatMap((k) => kindAliases(k));
    expect(new Set(all).size).toBe(all.length);
  });

  it('rejects an unknown kind with a validation error listing the kinds', () => {
    expect(() => parseKind('widgets')).toThrow(VnpError);
    try {
      parseKind('widgets');
    } catch (e) {
      expect((e as VnpError).code).toBe('VNP_ERR_VALIDATION');
      expect((e as VnpError).message).toContain('interfaces (iface)');
    }
  });

  it('help lists every kind', () => {
    expect(kindHelp().split(', ')).toHaveLength(KINDS.length);
  });
});
