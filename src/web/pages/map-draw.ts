/**
 * Asking for and drawing the map's graph. The answer and the node positions its layout
 * found are kept per revision and query (the model's answer cache), so switching back
 * to the map draws it at once with the same positions instead of asking and laying out
 * again; after the model's first load the default graph is asked for ahead of time.
 */
import type { Core, ElementDefinition, LayoutOptions, Position } from 'cytoscape';
import type { VnpClient } from '../../client/client.js';
import type { AnswerCache } from '../answer-cache.js';
import type { Graph } from '../graph-elements.js';

export interface GraphQuery {
  proto: string;
  port: string;
  selector: string;
}

/** The cache key of a graph: what it depends on. */
export function graphKey(revision: number, q: GraphQuery): string {
  return `graph@${revision}?${JSON.stringify([q.proto, q.port.trim(), q.selector.trim()])}`;
}

export function loadGraph(client: VnpClient, q: GraphQuery): Promise<Graph> {
  return client.request<Graph>('GET', '/v1/graph', {
    query: {
      proto: q.proto || undefined,
      port: q.port.trim() || undefined,
      selector: q.selector.trim() || undefined,
    },
  });
}

/** Ask for the default map ahead of its first visit (kept in the answer cache). */
export async function prefetchGraph(
  client: VnpClient,
  cache: AnswerCache,
  revision: number,
): Promise<void> {
  const q = { proto: '', port: '', selector: '' };
  const key = graphKey(revision, q);
  if (!cache.has(key)) cache.set(key, await loadGraph(client, q));
}

/**
 * Put the elements on the canvas. The same nodes keep their places (labels, classes and
 * edges change in place: a tag changed, flows came in); other nodes are laid out —
 * with the positions kept for this key if the map was drawn before, else by `cose`.
 */
export function drawGraph(c: Core, els: ElementDefinition[], cache: AnswerCache, key: string) {
  const nodes = els.filter((e) => e.group === 'nodes');
  const sameNodes =
    c.nodes().length === nodes.length &&
    nodes.every((e) => c.getElementById(e.data.id as string).isNode());
  if (sameNodes) {
    const ids = new Set(els.map((e) => e.data.id as string));
    c.batch(() => {
      c.edges()
        .filter((e) => !ids.has(e.id()))
        .remove();
      for (const e of els) {
        const el = c.getElementById(e.data.id as string);
        if (el.empty()) c.add(e);
        else {
          el.data(e.data);
          el.classes(e.classes ?? '');
        }
      }
    });
    return;
  }
  const posKey = `positions:${key}`;
  const kept = cache.get<Record<string, Position>>(posKey);
  c.batch(() => {
    c.elements().remove();
    c.add(els);
  });
  const layout: LayoutOptions = kept
    ? { name: 'preset', positions: kept, fit: true, padding: 20 }
    : ({
        name: 'cose',
        animate: false,
        nodeDimensionsIncludeLabels: true,
        padding: 20,
        randomize: false,
      } as LayoutOptions);
  c.layout(layout).run();
  if (!kept) {
    const positions: Record<string, Position> = {};
    c.nodes().forEach((n) => {
      positions[n.id()] = { ...n.position() };
    });
    cache.set(posKey, positions);
  }
}
