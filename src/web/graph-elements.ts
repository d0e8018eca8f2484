/**
 * The map's graph (`GET /v1/graph`) as Cytoscape elements: a compound node per
 * partition holding its identities (or identity groups), an edge per allowed pair.
 */

export interface GraphNode {
  id: string;
  partitions: string[];
  tags: Record<string, unknown>;
  identities: number[];
  records: number;
  examples: string[];
}

export interface GraphEdge {
  src: string;
  dst: string;
  allowed: { proto: string; ports: [number, number] }[];
  sampled?: boolean;
}

export interface Graph {
  aggregated: boolean;
  identities: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  selected?: string[];
}

export interface Element {
  group: 'nodes' | 'edges';
  data: Record<string, unknown>;
  classes?: string;
}

/**
 * A node's label: its identity-relevant tags, one per line (groups: their size).
 *
 * @example nodeLabel({ tags: { app: 'web', tier: 1 }, identities: [300], records: 2, … }) // 'app=web\ntier=1\n(2 records)'
 */
export function nodeLabel(n: GraphNode, aggregated: boolean): string {
  if (aggregated)
    return `${n.partitions.join(', ') || 'unpartitioned'}\n${n.identities.length} identities, ${n.records} records`;
  const tags = Object.entries(n.tags).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return [
    ...(tags.length ? tags : ['(no relevant tags)']),
    `(${n.records} record${n.records === 1 ? '' : 's'})`,
  ].join('\n');
}

/**
 * Ports of an edge as one short phrase.
 *
 * @example portsText([{ proto: 'tcp', ports: [443, 443] }, { proto: 'udp', ports: [0, 65535] }]) // 'tcp/443 udp/all'
 */
export function portsText(allowed: GraphEdge['allowed']): string {
  return allowed
    .map(
      (a) =>
        `${a.proto}/${a.proto === 'icmp' || (a.ports[0] === 0 && a.ports[1] === 65535) ? 'all' : a.ports[0] === a.ports[1] ? a.ports[0] : `${a.ports[0]}-${a.ports[1]}`}`,
    )
    .join(' ');
}

export function graphElements(g: Graph): Element[] {
  const parents = new Set(
    g.nodes.map((n) => n.partitions[0]).filter((p): p is string => p !== undefined),
  );
  const selected = new Set(g.selected ?? []);
  return [
    ...[...parents].map((p) => ({
      group: 'nodes' as const,
      data: { id: `p:${p}`, label: p },
      classes: 'partition',
    })),
    ...g.nodes.map((n) => ({
      group: 'nodes' as const,
      data: {
        id: n.id,
        label: nodeLabel(n, g.aggregated),
        ...(n.partitions[0] !== undefined ? { parent: `p:${n.partitions[0]}` } : {}),
      },
      classes: selected.has(n.id) ? 'identity hit' : 'identity',
    })),
    ...g.edges.map((e) => ({
      group: 'edges' as const,
      data: { id: `${e.src}>${e.dst}`, source: e.src, target: e.dst, label: portsText(e.allowed) },
      classes: e.sampled ? 'allow sampled' : 'allow',
    })),
  ];
}

/** One row of the observed-flow aggregate (`GET /v1/flows/summary`). */
export interface ObservedRow {
  srcIdentity: number;
  dstIdentity: number;
  protocol: string;
  port: number;
  verdict: 'allow' | 'deny';
  count: number;
}

export type ObservedStatus = 'observed-allow' | 'observed-deny' | 'would-deny';

/**
 * Edges for what the PEPs saw: allowed, denied, and allowed when it happened but denied
 * by the policy now (no policy edge covers its protocol and port any more).
 *
 * @example observedElements(graph, rows, '', '') // [{ group: 'edges', data: { id: 'o:would-deny:i1>i2', … }, classes: 'would-deny' }]
 */
export function observedElements(
  g: Graph,
  rows: ObservedRow[],
  proto: string,
  port: string,
): Element[] {
  const nodeOf = new Map<number, string>();
  for (const n of g.nodes) for (const i of n.identities) nodeOf.set(i, n.id);
  const policy = new Map(g.edges.map((e) => [`${e.src}>${e.dst}`, e]));
  const allowedNow = (s: string, d: string, r: ObservedRow) =>
    (policy.get(`${s}>${d}`)?.allowed ?? []).some(
      (a) =>
        a.proto === r.protocol &&
        (a.proto === 'icmp' || (a.ports[0] <= r.port && r.port <= a.ports[1])),
    );
  const edges = new Map<
    string,
    { s: string; d: string; status: ObservedStatus; count: number; ports: Set<string> }
  >();
  for (const r of rows) {
    if (proto !== '' && r.protocol !== proto) continue;
    if (port.trim() !== '' && String(r.port) !== port.trim()) continue;
    const s = nodeOf.get(r.srcIdentity);
    const d = nodeOf.get(r.dstIdentity);
    if (s === undefined || d === undefined || s === d) continue;
    const status: ObservedStatus =
      r.verdict === 'deny'
        ? 'observed-deny'
        : allowedNow(s, d, r)
          ? 'observed-allow'
          : 'would-deny';
    const key = `o:${status}:${s}>${d}`;
    const e = edges.get(key) ?? { s, d, status, count: 0, ports: new Set<string>() };
    e.count += r.count;
    e.ports.add(`${r.protocol}/${r.port}`);
    edges.set(key, e);
  }
  return [...edges].map(([id, e]) => ({
    group: 'edges' as const,
    data: {
      id,
      source: e.s,
      target: e.d,
      label: `${e.count}× ${[...e.ports].slice(0, 3).join(' ')}`,
    },
    classes: `observed ${e.status}`,
  }));
}
