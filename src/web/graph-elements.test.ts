import { describe, expect, it } from 'vitest';
import { graphElements, observedElements, portsText, type Graph } from './graph-elements.js';

const graph: Graph = {
  aggregated: false,
  identities: 2,
  nodes: [
    {
      id: 'i1',
      partitions: ['prod'],
      tags: { app: 'web' },
      identities: [300],
      records: 2,
      examples: ['web-1', 'web-2'],
    },
    {
      id: 'i2',
      partitions: [],
      tags: { app: 'db' },
      identities: [301],
      records: 1,
      examples: ['db-1'],
    },
  ],
  edges: [{ src: 'i1', dst: 'i2', allowed: [{ proto: 'tcp', ports: [5432, 5432] }] }],
};

describe('map elements', () => {
  it('groups identities under their partition and labels them by tags', () => {
    const els = graphElements(graph);
    expect(els.map((e) => e.data.id)).toEqual(['p:prod', 'i1', 'i2', 'i1>i2']);
    expect(els[1]!.data).toMatchObject({ parent: 'p:prod', label: 'app=web\n(2 records)' });
    expect(portsText([{ proto: 'udp', ports: [0, 65535] }])).toBe('udp/all');
  });

  it.each([
    [{ protocol: 'tcp', port: 5432, verdict: 'allow' }, 'observed-allow'],
    [{ protocol: 'tcp', port: 22, verdict: 'allow' }, 'would-deny'],
    [{ protocol: 'tcp', port: 22, verdict: 'deny' }, 'observed-deny'],
  ] as const)('an observed %j flow is %s', (row, status) => {
    const els = observedElements(
      graph,
      [{ srcIdentity: 300, dstIdentity: 301, count: 3, ...row }],
      '',
      '',
    );
    expect(els).toEqual([
      {
        group: 'edges',
        data: {
          id: `o:${status}:i1>i2`,
          source: 'i1',
          target: 'i2',
          label: `3× ${row.protocol}/${row.port}`,
        },
        classes: `observed ${status}`,
      },
    ]);
  });

  it('filters observed flows by protocol and port, and leaves out unknown identities', () => {
    const rows = [
      {
        srcIdentity: 300,
        dstIdentity: 301,
        protocol: 'tcp',
        port: 5432,
        verdict: 'allow' as const,
        count: 1,
      },
      {
        srcIdentity: 1,
        dstIdentity: 301,
        protocol: 'tcp',
        port: 5432,
        verdict: 'deny' as const,
        count: 1,
      },
    ];
    expect(observedElements(graph, rows, 'udp', '')).toEqual([]);
    expect(observedElements(graph, rows, 'tcp', '5432')).toHaveLength(1);
  });
});
