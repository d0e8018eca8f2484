/**
 * `GET /v1/graph`: the model as the web UI's map draws it —
 * identities (records with the same identity-relevant tags) grouped by partition, and
 * what policy allows between them (the engine's flow tables, exactly as `check`
 * decides). Past `maxNodes` identities the graph aggregates them by partition set
 * (docs/adr/0023-web-map.md): a group's edge is allowed when a pair of its largest
 * identities is, and says it was sampled.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../engine/index.js';
import { fieldError } from '../../model/errors.js';
import { PROTOCOLS, type Protocol, type Tags } from '../../model/types.js';
import { listIdentities } from './identities.js';
import type { ManagerPluginOptions } from './plugin-options.js';
import { QueryInt, queryInt } from '../schemas.js';

/** One identity: its relevant tags, partitions, record count and a few record names. */
export interface IdentityNode {
  identity: number;
  tags: Tags;
  partitions: string[];
  records: number;
  examples: string[];
}

/** A node of the drawn graph: one identity, or a group of them (aggregated). */
export interface GraphNode {
  id: string;
  partitions: string[];
  tags: Tags;
  identities: number[];
  records: number;
  examples: string[];
}

/** What policy allows from one node to another. */
export interface GraphEdge {
  src: string;
  dst: string;
  allowed: { proto: Protocol; ports: [number, number] }[];
  /** Aggregated graphs: decided on the groups' largest identities only. */
  sampled?: boolean;
}

const EXAMPLES = 3;
/** Identities compared per group when aggregated (pairs: SAMPLE²). */
const SAMPLE = 4;

/**
 * Every live identity with its record count and a few record names.
 *
 * @example identityNodes(engine) // [{ identity: 300, tags: { app: 'web' }, partitions: ['prod'], records: 12, examples: ['web-1', …] }]
 */
export function identityNodes(engine: Engine): IdentityNode[] {
  return listIdentities(engine).map((i) => ({
    identity: i.id,
    tags: i.tags,
    partitions: [...i.partitions].sort(),
    records: i.records.length,
    examples: i.records.slice(0, EXAMPLES),
  }));
}

type Filter = { proto?: Protocol; port?: number };

function allowedBetween(engine: Engine, a: number, b: number, f: Filter): GraphEdge['allowed'] {
  return engine
    .flowTable({ identity: a }, { identity: b })
    .filter((segment) => segment.verdict === 'allow')
    .filter((segment) => f.proto === undefined || segment.proto === f.proto)
    .filter(
      (segment) =>
        f.port === undefined ||
        segment.proto === 'icmp' ||
        (segment.lo <= f.port && f.port <= segment.hi),
    )
    .map((segment) => ({
      proto: segment.proto,
      ports: [segment.lo, segment.hi] as [number, number],
    }));
}

function groupNodes(ids: IdentityNode[], aggregate: boolean): GraphNode[] {
  if (!aggregate)
    return ids.map((i) => ({
      id: `i${i.identity}`,
      partitions: i.partitions,
      tags: i.tags,
      identities: [i.identity],
      records: i.records,
      examples: i.examples,
    }));
  const groups = new Map<string, GraphNode>();
  // Largest identities first: a group's sample is its first SAMPLE members.
  for (const i of [...ids].sort((a, b) => b.records - a.records)) {
    const key = i.partitions.join(',');
    const g = groups.get(key) ?? {
      id: `g${groups.size}`,
      partitions: i.partitions,
      tags: {},
      identities: [],
      records: 0,
      examples: [],
    };
    g.identities.push(i.identity);
    g.records += i.records;
    if (g.examples.length < EXAMPLES) g.examples.push(...i.examples.slice(0, 1));
    groups.set(key, g);
  }
  return [...groups.values()];
}

/**
 * The map: nodes and the allowed edges between them (self-loops left out).
 *
 * @example buildGraph(engine, { maxNodes: 150 }) // { aggregated: false, nodes: [...], edges: [...] }
 */
export function buildGraph(
  engine: Engine,
  opts: Filter & { maxNodes: number; selector?: string },
): {
  aggregated: boolean;
  identities: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  selected?: string[];
} {
  const ids = identityNodes(engine);
  const aggregated = ids.length > opts.maxNodes;
  const nodes = groupNodes(ids, aggregated);
  const edges: GraphEdge[] = [];
  for (const a of nodes)
    for (const b of nodes) {
      if (a === b) continue;
      const seen = new Map<string, GraphEdge['allowed'][number]>();
      for (const x of a.identities.slice(0, SAMPLE))
        for (const y of b.identities.slice(0, SAMPLE))
          for (const r of allowedBetween(engine, x, y, opts))
            seen.set(`${r.proto}/${r.ports[0]}-${r.ports[1]}`, r);
      if (seen.size === 0) continue;
      const sampled = aggregated && (a.identities.length > SAMPLE || b.identities.length > SAMPLE);
      edges.push({
        src: a.id,
        dst: b.id,
        allowed: [...seen.values()],
        ...(sampled ? { sampled } : {}),
      });
    }
  const out = { aggregated, identities: ids.length, nodes, edges };
  if (opts.selector === undefined) return out;
  const hit = new Set<number>();
  for (const name of engine.select(opts.selector)) {
    const id = engine.recordIdentity(name);
    if (id !== undefined) hit.add(id);
  }
  return {
    ...out,
    selected: nodes.filter((n) => n.identities.some((i) => hit.has(i))).map((n) => n.id),
  };
}

const GraphQuery = Type.Object(
  {
    proto: Type.Optional(Type.String({ description: 'only this protocol' })),
    port: Type.Optional(QueryInt),
    maxNodes: Type.Optional(QueryInt),
    selector: Type.Optional(
      Type.String({ description: 'name the nodes holding a record this selector matches' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The graph route.
 *
 * @example
 *   await app.register(graphRoutes, { manager });
 */
export const graphRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (app, { manager }) => {
  app.get(
    '/v1/graph',
    {
      config: { access: 'read' },
      schema: {
        tags: ['check'],
        summary:
          'Identities (aggregated by partitions past maxNodes) and what policy allows between them',
        querystring: GraphQuery,
      },
    },
    async (request) => {
      const q = request.query as {
        proto?: string;
        port?: string;
        maxNodes?: string;
        selector?: string;
      };
      if (q.proto !== undefined && !PROTOCOLS.includes(q.proto as Protocol))
        throw fieldError('proto', `one of ${PROTOCOLS.join(', ')}`, q.proto);
      const port = q.port === undefined ? undefined : Number(q.port);
      if (port !== undefined && (port < 1 || port > 65535))
        throw fieldError('port', 'a port 1..65535', port);
      return buildGraph(manager.engine, {
        ...(q.proto !== undefined ? { proto: q.proto as Protocol } : {}),
        ...(port !== undefined ? { port } : {}),
        maxNodes: queryInt(q.maxNodes, 120, 1000),
        ...(q.selector !== undefined && q.selector.trim() !== '' ? { selector: q.selector } : {}),
      });
    },
  );
};
