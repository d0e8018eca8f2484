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

export function MapPage() {
  const { client, model } = useSession();
  useModelVersion();
  const [proto, setProto] = useState('');
  const [port, setPort] = useState('');
  const [selector, setSelector] = useState('');
  const [query, setQuery] = useState<{ proto: string; port: string; selector: string }>({
    proto: '',
    port: '',
    selector: '',
  });
  const [edgeId, setEdgeId] = useState<string>();
  const [formError, setFormError] = useState<ShownError>();
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | undefined>(undefined);
  const key = graphKey(model.revision, query);
  const graph = useCachedApi(model.answers, key, () => loadGraph(client, query));
  const observed = useApi(() => client.flowSummary({ since: '1h' }), [model.revision], 10_000);
  useEffect(() => {
    if (!box.current) return;
    cy.current = cytoscape({
      container: box.current,
      style: STYLE,
      wheelSensitivity: 0.3,
      minZoom: 0.1,
      maxZoom: 3,
    });
    cy.current.on('tap', 'edge', (e) => setEdgeId(e.target.id() as string));
    return () => cy.current?.destroy();
  }, []);
  useEffect(() => {
    const c = cy.current;
    const g = graph.data;
    if (!c || !g) return;
    const els = [
      ...graphElements(g),
      ...observedElements(g, observed.data?.items ?? [], query.proto, query.port),
    ];
    drawGraph(c, els, model.answers, key);
    if (edgeId) c.getElementById(edgeId).select();
  }, [graph.data, observed.data]);
  useEffect(() => setFormError(graph.error), [graph.error]);
  const g = graph.data;
  const edge = g?.edges.find((e) => `${e.src}>${e.dst}` === edgeId);
  const name = (id: string) => {
    const n = g?.nodes.find((x) => x.id === id);
    return n
      ? g!.aggregated
        ? n.partitions.join(', ') || 'unpartitioned'
        : `${n.examples[0] ?? id}${n.records > 1 ? ` +${n.records - 1}` : ''}`
      : id;
  };
  return (
    <section
      data-page="map"
      data-ready={g && model.loaded ? 'true' : 'false'}
      aria-labelledby="h-map"
    >
      <h1 id="h-map">Map</h1>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ proto, port, selector });
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
        {g && (
          <span class="muted" aria-live="polite">
            {g.identities} identities
            {g.aggregated ? `, aggregated into ${g.nodes.length} groups by partition` : ''},{' '}
            {g.edges.length} allowed edges
            {g.selected ? `; ${g.selected.length} highlighted` : ''}
          </span>
        )}
      </form>
      <ErrorBox error={formError} />
      <p class="legend muted">
        Edges: <span class="l-allow">policy allows</span> ·{' '}
        <span class="l-oallow">observed, allowed</span> ·{' '}
        <span class="l-odeny">observed, denied</span> ·{' '}
        <span class="l-would">observed, would now be denied</span>
        {observed.error ? ` (no flow data: ${observed.error.message})` : ''}
      </p>
      <div class="split">
        <div
          ref={box}
          class="cy"
          role="img"
          aria-label="Map of partitions and identities; the edge table below lists the same edges"
        />
        {g && edge && <EdgeExplain graph={g} edge={edge} proto={query.proto} port={query.port} />}
      </div>
      {g && (
        <details>
          <summary>Nodes ({g.nodes.length})</summary>
          <table data-testid="nodes">
            <thead>
              <tr>
                <th scope="col">{g.aggregated ? 'partitions' : 'identity tags'}</th>
                <th scope="col">partitions</th>
                <th scope="col">records</th>
              </tr>
            </thead>
            <tbody>
              {g.nodes.slice(0, 300).map((n) => (
                <tr key={n.id} class={g.selected?.includes(n.id) ? 'selected' : ''}>
                  <td>{g.aggregated ? `${n.identities.length} identities` : tagText(n.tags)}</td>
                  <td>{n.partitions.join(', ') || '—'}</td>
                  <td>
                    {n.records} ({n.examples.join(', ')})
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {g && (
        <details>
          <summary>Edges ({g.edges.length})</summary>
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
              {g.edges.slice(0, 300).map((e) => (
                <tr key={`${e.src}>${e.dst}`}>
                  <td>{name(e.src)}</td>
                  <td>{name(e.dst)}</td>
                  <td>
                    {portsText(e.allowed)}
                    {e.sampled ? ' (sampled)' : ''}
                  </td>
                  <td>
                    <button type="button" onClick={() => setEdgeId(`${e.src}>${e.dst}`)}>
                      Explain {name(e.src)} → {name(e.dst)}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}
