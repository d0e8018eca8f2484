/**
 * Overview: counts, enforcement points with their lag (polled), and the latest
 * changes (the live watch stream) and events.
 */
import type { PepInfo } from '../../client/api-types.js';
import { ErrorBox } from '../components/error-box.js';
import { useModelVersion, useSession } from '../context.js';
import { useApi } from '../use-api.js';
import { FlowRateChart } from './flow-rate.js';

function Count({ label, value }: { label: string; value: number | string }) {
  return (
    <div class="count">
      <div class="value">{value}</div>
      <div class="label">{label}</div>
    </div>
  );
}

export function OverviewPage() {
  const { client, model } = useSession();
  useModelVersion();
  // Asked again when the model changes (a watched change), not on every page the first
  // load brings in; PEPs and events wait for the model's first pages, which the paint needs.
  const changed = model.changes[0]?.revision;
  const identities = useApi(
    () => client.request<{ items: unknown[] }>('GET', '/v1/identities'),
    [changed],
  );
  const peps = useApi(() => client.peps(), [], 2000, model.loaded);
  const events = useApi(
    () =>
      client.request<{ items: Record<string, unknown>[] }>('GET', '/v1/events', {
        query: { limit: 10 },
      }),
    [model.revision],
    undefined,
    model.loaded,
  );
  return (
    <section
      data-page="overview"
      data-ready={model.loaded ? 'true' : 'false'}
      aria-labelledby="h-overview"
    >
      <h1 id="h-overview">Overview</h1>
      {!model.loaded && <p aria-busy="true">Loading the model…</p>}
      <div class="counts">
        <Count label="records" value={model.loaded ? model.count('Interface') : '…'} />
        <Count label="identities" value={identities.data?.items.length ?? '…'} />
        <Count label="partitions" value={model.loaded ? model.count('Partition') : '…'} />
        <Count label="policies" value={model.loaded ? model.count('Policy') : '…'} />
        <Count label="revision" value={model.revision} />
      </div>
      <div class="columns">
        <section aria-labelledby="h-peps">
          <h2 id="h-peps">Enforcement points</h2>
          <ErrorBox error={peps.error} />
          <PepTable peps={peps.data ?? []} />
        </section>
        <FlowRateChart />
      </div>
      <div class="columns">
        <section aria-labelledby="h-changes">
          <h2 id="h-changes">Latest changes</h2>
          {model.changes.length === 0 ? (
            <p class="muted">No change since this page loaded (revision {model.revision}).</p>
          ) : (
            <ol class="feed" data-testid="changes">
              {model.changes.slice(0, 15).map((c) => (
                <li key={c.revision}>
                  <span class="rev">r{c.revision}</span> {c.action}{' '}
                  <span class="muted">{c.actor}</span>
                  <span class="muted">
                    {' '}
                    ·{' '}
                    {c.changes
                      .map((x) => `${x.op} ${x.kind}/${x.name}`)
                      .slice(0, 3)
                      .join(', ')}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </section>
        <section aria-labelledby="h-events">
          <h2 id="h-events">Latest events</h2>
          <ErrorBox error={events.error} />
          {(events.data?.items ?? []).length === 0 ? (
            <p class="muted">No events.</p>
          ) : (
            <ol class="feed">
              {(events.data?.items ?? []).map((e, i) => (
                <li key={i}>{summarizeEvent(e)}</li>
              ))}
            </ol>
          )}
        </section>
      </div>
    </section>
  );
}

/** One line for an event as `GET /v1/events` lists it. */
export function summarizeEvent(e: Record<string, unknown>): string {
  const ev = (e.event ?? e) as Record<string, unknown>;
  const parts = [ev.type, '→', ev.target, ev.at ?? ev.receivedAt].filter((x) => x !== undefined);
  return parts.map(String).join(' ');
}

function PepTable({ peps }: { peps: PepInfo[] }) {
  if (peps.length === 0) return <p class="muted">No enforcement point has connected.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">host</th>
          <th scope="col">connected</th>
          <th scope="col">applied</th>
          <th scope="col">lag</th>
          <th scope="col">last contact</th>
        </tr>
      </thead>
      <tbody>
        {peps.map((p) => (
          <tr key={p.host}>
            <td>{p.host}</td>
            <td>{p.connected ? 'yes' : 'no'}</td>
            <td>r{p.appliedRevision}</td>
            <td class={p.lag > 0 ? 'warn' : ''}>{p.lag}</td>
            <td>{p.lastContact}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
