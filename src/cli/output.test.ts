import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  cell,
  formatTable,
  formatTags,
  formatTagValue,
  parseOutputFormat,
  toJson,
  toYaml,
  truncate,
} from './output.js';
import { resourceTable } from './resource-table.js';

describe('formatTable', () => {
  it('aligns columns with two spaces and leaves the last column unpadded', () => {
    const t = formatTable(
      ['NAME', 'CIDR', 'VNI'],
      [
        ['front', '10.10.1.0/24', '101'],
        ['a', '10.0.0.0/8', ''],
      ],
    );
    expect(t).toBe('NAME   CIDR          VNI\nfront  10.10.1.0/24  101\na      10.0.0.0/8\n');
  });

  it('prints only headers for no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B\n');
  });

  it('counts code points, not UTF-16 units, for width', () => {
    const t = formatTable(['X', 'Y'], [['→→', 'a']]);
    expect(t.split('\n')[1]).toBe('→→  a');
  });
});

describe('parseOutputFormat', () => {
  it.each([
    ['json', 'json'],
    ['yaml', 'yaml'],
    ['yml', 'yaml'],
    ['YAML', 'yaml'],
    ['table', 'table'],
    [undefined, 'table'],
  ])('%s → %s', (arg, f) => expect(parseOutputFormat(arg)).toBe(f));

  it('rejects others', () => {
    expect(() => parseOutputFormat('xml')).toThrow(/expected json, yaml or table/);
  });
});

describe('json and yaml', () => {
  it('json is indented and newline-terminated', () => {
    expect(toJson({ a: 1 })).toBe('{\n  "a": 1\n}\n');
  });

  it('a list becomes a multi-document YAML stream that parses back', () => {
    const docs = [
      { kind: 'Subnet', name: 'a', cidr: '10.0.0.0/24' },
      { kind: 'Subnet', name: 'b', cidr: '10.0.1.0/24' },
    ];
    const text = toYaml(docs, { multiDocument: true });
    expect(parseAllDocuments(text).map((d) => (Array.isArray(d) ? null : d.toJS()))).toEqual(docs);
  });

  it('keeps typed tag values', () => {
    const text = toYaml({ tags: { tier: 2, pci: true, env: 'prod', v: '2' } });
    expect(text).toContain('tier: 2');
    expect(text).toContain('pci: true');
    expect(text).toContain('v: "2"');
  });
});

describe('cells and tags', () => {
  it('formats tags sorted, strings bare, others JSON', () => {
    expect(formatTags({ tier: 2, env: 'prod', owner: { team: 'pay' }, pci: true })).toBe(
      'env=prod,owner={"team":"pay"},pci=true,tier=2',
    );
    expect(formatTags(undefined)).toBe('');
    expect(formatTagValue('x')).toBe('x');
  });

  it('renders absent values empty and arrays comma-joined', () => {
    expect(cell(undefined)).toBe('');
    expect(cell(null)).toBe('');
    expect(cell(['10.0.0.1', '10.0.0.2'])).toBe('10.0.0.1,10.0.0.2');
    expect(cell(7)).toBe('7');
  });

  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});

describe('resourceTable', () => {
  it('shows the interface columns an operator scans for', () => {
    const t = resourceTable('Interface', [
      {
        name: 'web-1',
        subnet: 'front',
        ips: ['10.10.1.11'],
        instance: 'vm-web-1',
        tags: { tier: 1, env: 'prod' },
        revision: 4,
      },
    ]);
    expect(t.split('\n')[0]).toMatch(/^NAME\s+SUBNET\s+IPS\s+INSTANCE\s+TAGS\s+REVISION$/);
    expect(t).toContain('web-1');
    expect(t).toContain('env=prod,tier=1');
  });

  it('counts a policy’s rules', () => {
    const t = resourceTable('Policy', [
      { name: 'p', priority: 10, appliesTo: 'all()', ingress: [{}, {}], egress: [], routes: [] },
    ]);
    expect(t.split('\n')[1]).toMatch(/^p\s+10\s+enforce\s+all\(\)\s+2\s+0\s+0$/);
  });

  it('has a table for settings', () => {
    const t = resourceTable('Settings', [
      { name: 'default', defaults: { unpartitioned: 'allow', crossPartition: 'deny' } },
    ]);
    expect(t).toContain('allow');
    expect(t).toContain('deny');
  });
});
