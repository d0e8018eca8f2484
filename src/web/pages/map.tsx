/**
 * The map: identities grouped by partition (Cytoscape.js, cose layout), edges for
 * what policy allows, filterable by protocol and port; a selector highlights nodes;
 * an edge (clicked, or from the keyboard-usable edge table) shows `check` for both
 * directions, re-asked on every model change.
 */
import cytoscape, { type Core } from 'cytoscape';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CheckResult } from '../../client/api-types.js';
import type { Protocol } from '../../model/types.js';
import type { ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { Explanation } from '../components/explanation.js';
import { Choice, Field } from '../components/field.js';
import { useModelVersion, useSession } from '../context.js';
import {
  graphElements,
  observedElements,
  portsText,
  type Graph,
  type GraphEdge,
} from '../graph-elements.js';
import { useApi, useCachedApi } from '../use-api.js';
import { drawGraph, graphKey, loadGraph } from './map-draw.js';
import { tagText } from './check.js';

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node.identity',
    style: {
      label: 'data(label)',
      'text-wrap': 'wrap',
      'text-valign': 'center',
      'font-size': 10,
      shape: 'round-rectangle',
      width: 'label',
      height: 'label',
      padding: '8px',
      'background-color': '#e8eef8',
      'border-width': 1,
      'border-color': '#5b7fb8',
      color: '#1a1a1a',
    },
  },
  {
    selector: 'node.hit',
    style: { 'background-color': '#ffd54f', 'border-width': 3, 'border-color': '#b26a00' },
  },
  {
    selector: 'node.partition',
    style: {
      label: 'data(label)',
      'text-valign': 'top',
      'font-size': 12,
      'font-weight': 'bold',
      'background-color': '#f6f7f9',
      'border-color': '#8a94a6',
      'border-style': 'dashed',
      padding: '14px',
    },
  },
  {
    selector: 'edge',
    style: {
      width: 1.5,
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      label: 'data(label)',
      'font-size': 8,
      'text-rotation': 'autorotate',
      'text-background-color': '#fff',
      'text-background-opacity': 0.8,
    },
  },
  { selector: 'edge.allow', style: { 'line-color': '#2e7d32', 'target-arrow-color': '#2e7d32' } },
  { selector: 'edge.sampled', style: { 'line-style': 'dashed' } },
  {
    selector: 'edge.observed-allow',
    style: { 'line-color': '#1565c0', 'target-arrow-color': '#1565c0', 'line-style': 'dotted' },
  },
  {
    selector: 'edge.observed-deny',
    style: { 'line-color': '#c62828', 'target-arrow-color': '#c62828', 'line-style': 'dotted' },
  },
  {
    selector: 'edge.would-deny',
    style: {
      'line-color': '#ef6c00',
      'target-arrow-color': '#ef6c00',
      'line-style': 'dashed',
      width: 3,
    },
  },
  {
    selector: 'edge:selected',
    style: { width: 4, 'line-color': '#0d47a1', 'target-arrow-color': '#0d47a1' },
  },
];

/** The port a check of this edge asks about: the filter's, else the first allowed one. */
function probe(
  edge: GraphEdge,
  proto: string,
  port: string,
): { protocol: Protocol; port?: number } {
  const a = edge.allowed.find((x) => proto === '' || x.proto === proto) ?? edge.allowed[0];
  const protocol = (proto || a?.proto || 'tcp') as Protocol;
  if (protocol === 'icmp') return { protocol };
  return { protocol, port: port.trim() !== '' ? Number(port) : (a?.ports[0] ?? 0) || 1 };
}

function EdgeExplain({
  graph,
  edge,
  proto,
  port,
}: {
  graph: Graph;
  edge: GraphEdge;
  proto: string;
  port: string;
}) {
  const { client } = useSession();
  const version = useModelVersion();
  const node = (id: string) => graph.nodes.find((n) => n.id === id);
  const a = node(edge.src)?.examples[0];
  const b = node(edge.dst)?.examples[0];
  const q = probe(edge, proto, port);
  const both = useApi(
    async () =>
      a === undefined || b === undefined
        ? undefined
        : Promise.all([
            client.check({ src: a, dst: b, ...q }),
            client.check({ src: b, dst: a, ...q }),
          ]),
    [a, b, q.protocol, q.port, version],
  );
  return (
    <aside class="detail" aria-labelledby="h-edge" data-testid="edge-explain">
      <h2 id="h-edge">
        {a} ⇄ {b} ({q.protocol}
        {q.port !== undefined ? `/${q.port}` : ''})
      </h2>
      <ErrorBox error={both.error} />
      {both.data &&
        both.data.map((r: CheckResult, i: number) => (
          <div key={i}>
            <h3>{i === 0 ? `${a} → ${b}` : `${b} → ${a}`}</h3>
            <Explanation result={r} />
          </div>
        ))}
    </aside>
  );
}

/** How a node is named in the edge table: its partitions when aggregated, else a record. */
function nodeName(graph: Graph, id: string): string {
  const node = graph.nodes.find((candidate) => candidate.id === id);
  if (!node) return id;
  if (graph.aggregated) return node.partitions.join(', ') || 'unpartitioned';
  return `${node.examples[0] ?? id}${node.records > 1 ? ` +${node.records - 1}` : ''}`;
}

/** The Cytoscape instance drawn into `box`, created once; a tapped edge is reported. */
function useCytoscape(
  box: { current: HTMLDivElement | null },
  onEdge: (edgeId: string) => void,
): { current: Core | undefined } {
  const cy = useRef<Core | undefined>(undefined);
  useEffect(() => {
    if (!box.current) return;
    cy.current = cytoscape({
      container: box.current,
      style: STYLE,
      wheelSensitivity: 0.3,
      minZoom: 0.1,
      maxZoom: 3,
    });
    cy.current.on('tap', 'edge', (event) => onEdge(event.target.id() as string));
    return () => cy.current?.destroy();
  }, []);
  return cy;
}

interface MapQuery {
  proto: string;
  port: string;
  selector: string;
}

/** The filter form: protocol, port and highlight selector, applied on submit. */
function MapFilter({
  graph,
  formError,
  onQuery,
}: {
  graph: Graph | undefined;
  formError: ShownError | undefined;
  onQuery: (query: MapQuery) => void;
}) {
  const [proto, setProto] = useState('');
  const [port, setPort] = useState('');
  const [selector, setSelector] = useState('');
  return (
    <form
      class="inline"
      onSubmit={(event) => {
        event.preventDefault();
        onQuery({ proto, port, selector });
      }}
    >
      <Choice
        id="map-proto"
        label="protocol"
        value={proto}
        options={['', 'tcp', 'udp', 'sctp', 'icmp']}
        onValue={setProto}
      />
      <Field
        id="map-port"
        label="port"
        value={port}
        onValue={setPort}
        invalid={formError?.field === 'port'}
      />
      <Field
        id="map-selector"
        label="highlight selector"
        value={selector}
        onValue={setSelector}
        placeholder='app == "web"'
      />
      <button type="submit">Show</button>
      {graph && (
        <span class="muted" aria-live="polite">
          {graph.identities} identities
          {graph.aggregated
            ? `, aggregated into ${graph.nodes.length} groups by partition`
            : ''}, {graph.edges.length} allowed edges
          {graph.selected ? `; ${graph.selected.length} highlighted` : ''}
        </span>
      )}
    </form>
  );
}

function Legend({ flowError }: { flowError: ShownError | undefined }) {
  return (
    <p class="legend muted">
      Edges: <span class="l-allow">policy allows</span> ·{' '}
      <span class="l-oallow">observed, allowed</span> ·{' '}
      <span class="l-odeny">observed, denied</span> ·{' '}
      <span class="l-would">observed, would now be denied</span>
      {flowError ? ` (no flow data: ${flowError.message})` : ''}
    </p>
  );
}

function NodeTable({ graph }: { graph: Graph }) {
  return (
    <details>
      <summary>Nodes ({graph.nodes.length})</summary>
      <table data-testid="nodes">
        <thead>
          <tr>
            <th scope="col">{graph.aggregated ? 'partitions' : 'identity tags'}</th>
            <th scope="col">partitions</th>
            <th scope="col">records</th>
          </tr>
        </thead>
        <tbody>
          {graph.nodes.slice(0, 300).map((node) => (
            <tr key={node.id} class={graph.selected?.includes(node.id) ? 'selected' : ''}>
              <td>
                {graph.aggregated ? `${node.identities.length} identities` : tagText(node.tags)}
              </td>
              <td>{node.partitions.join(', ') || '—'}</td>
              <td>
                {node.records} ({node.examples.join(', ')})
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** The same edges as the canvas, as a table a keyboard can reach. */
function EdgeTable({ graph, onExplain }: { graph: Graph; onExplain: (edgeId: string) => void }) {
  const name = (id: string) => nodeName(graph, id);
  return (
    <details>
      <summary>Edges ({graph.edges.length})</summary>
      <table data-testid="edges">
        <thead>
          <tr>
            <th scope="col">from</th>
            <th scope="col">to</th>
            <th scope="col">allowed</th>
            <th scope="col">
              <span class="sr-only">explain</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {graph.edges.slice(0, 300).map((edge) => (
            <tr key={`${edge.src}>${edge.dst}`}>
              <td>{name(edge.src)}</td>
              <td>{name(edge.dst)}</td>
              <td>
                {portsText(edge.allowed)}
                {edge.sampled ? ' (sampled)' : ''}
              </td>
              <td>
                <button type="button" onClick={() => onExplain(`${edge.src}>${edge.dst}`)}>
                  Explain {name(edge.src)} → {name(edge.dst)}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function MapPage() {
  const { client, model } = useSession();
  useModelVersion();
  const [query, setQuery] = useState<MapQuery>({ proto: '', port: '', selector: '' });
  const [edgeId, setEdgeId] = useState<string>();
  const [formError, setFormError] = useState<ShownError>();
  const box = useRef<HTMLDivElement>(null);
  const cy = useCytoscape(box, setEdgeId);
  const key = graphKey(model.revision, query);
  const graph = useCachedApi(model.answers, key, () => loadGraph(client, query));
  const observed = useApi(() => client.flowSummary({ since: '1h' }), [model.revision], 10_000);
  useEffect(() => {
    const core = cy.current;
    const shown = graph.data;
    if (!core || !shown) return;
    const elements = [
      ...graphElements(shown),
      ...observedElements(shown, observed.data?.items ?? [], query.proto, query.port),
    ];
    drawGraph(core, elements, model.answers, key);
    if (edgeId) core.getElementById(edgeId).select();
  }, [graph.data, observed.data]);
  useEffect(() => setFormError(graph.error), [graph.error]);
  const shown = graph.data;
  const edge = shown?.edges.find((candidate) => `${candidate.src}>${candidate.dst}` === edgeId);
  return (
    <section
      data-page="map"
      data-ready={shown && model.loaded ? 'true' : 'false'}
      aria-labelledby="h-map"
    >
      <h1 id="h-map">Map</h1>
      <MapFilter graph={shown} formError={formError} onQuery={setQuery} />
      <ErrorBox error={formError} />
      <Legend flowError={observed.error} />
      <div class="split">
        <div
          ref={box}
          class="cy"
          role="img"
          aria-label="Map of partitions and identities; the edge table below lists the same edges"
        />
        {shown && edge && (
          <EdgeExplain graph={shown} edge={edge} proto={query.proto} port={query.port} />
        )}
      </div>
      {shown && <NodeTable graph={shown} />}
      {shown && <EdgeTable graph={shown} onExplain={setEdgeId} />}
    </section>
  );
}
