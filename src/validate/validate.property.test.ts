import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, VnpError } from '../model/errors.js';
import { KINDS } from '../model/types.js';
import { validateApplyDocument, validateDocument } from './validate.js';

// Plausible field values, so fuzzing gets past the first check now and then.
const value = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    'lan',
    'web-1',
    '10.0.0.0/24',
    '10.0.0.5',
    '2001:db8::/64',
    'all()',
    'env == "prod"',
    'env ==',
    'tcp/443',
    'allow',
    'deny',
    'log',
    'audit',
    0,
    1,
    65535,
    65536,
    -1,
    1.5,
    null,
    [],
    {},
    true,
  ),
  fc.array(
    fc.record(
      {
        action: fc.constantFrom('allow', 'deny', 'x'),
        to: fc.oneof(
          fc.record({ cidr: fc.constantFrom('10.0.0.0/8', '10.0.0.1/8') }),
          fc.anything(),
        ),
        from: fc.record({ selector: fc.constantFrom('all()', '!', 'a in {}') }),
        ports: fc.array(fc.constantFrom('tcp/1', 'icmp', 'udp/0', 5)),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 3 },
  ),
);
const fields = [
  'name',
  'cidr',
  'vni',
  'host',
  'netns',
  'subnet',
  'ips',
  'mac',
  'securityGroups',
  'tags',
  'instance',
  'selector',
  'intra',
  'description',
  'priority',
  'appliesTo',
  'ingress',
  'egress',
  'routes',
  'mode',
  'on',
  'match',
  'addTags',
  'removeTags',
  'ttl',
  'defaults',
  'revision',
  'bogus',
  'src',
  'dst',
  'expect',
];
const doc = fc
  .tuple(
    fc.oneof(fc.constantFrom(...KINDS, 'Test'), fc.anything()),
    fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 8 }),
  )
  .map(([kind, rest]) => ({ kind, ...rest }));

describe('validateDocument on arbitrary input', () => {
  it('returns a fixed point or throws a registered VnpError naming a field', () => {
    fc.assert(
      fc.property(fc.oneof(doc, fc.anything()), (d) => {
        let out: unknown;
        try {
          out = validateApplyDocument(d);
        } catch (e) {
          expect(e).toBeInstanceOf(VnpError);
          const err = e as VnpError;
          expect(Object.keys(ERROR_CODES)).toContain(err.code);
          expect(typeof err.details?.field).toBe('string');
          expect(err.status).toBeLessThan(500);
          return;
        }
        expect(validateApplyDocument(out)).toEqual(out);
        if ((out as { kind: string }).kind !== 'Test') expect(validateDocument(out)).toEqual(out);
      }),
      { numRuns: 3000 },
    );
  });
});
