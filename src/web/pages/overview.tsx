/**
 * Overview: counts, enforcement points with their lag (polled), and the latest
 * changes (the live watch stream) and events.
 */
import type { PepInfo } from '../../client/api-types.js';
import type { ShownError } from '../api.js';
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
        <LatestChanges />
        <LatestEvents events={events.data?.items ?? []} error={events.error} />
      </div>
    </section>
  );
}

/** The live watch stream's latest changes (newest first, at most 15). */
function LatestChanges() {
  const { model } = useSession();
  return (
    <section aria-labelledby="h-changes">
      <h2 id="h-changes">Latest changes</h2>
      {model.changes.length === 0 ? (
        <p class="muted">No change since this page loaded (revision {model.revision}).</p>
      ) : (
        <ol class="feed" data-testid="changes">
          {model.changes.slice(0, 15).map((change) => (
            <li key={change.revision}>
              <span class="rev">r{change.revision}</span> {change.action}{' '}
              <span class="muted">{change.actor}</span>
              <span class="muted">
                {' '}
                ·{' '}
                {change.changes
                  .map((item) => `${item.op} ${item.kind}/${item.name}`)
                  .slice(0, 3)
                  .join(', ')}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function LatestEvents({
  events,
  error,
}: {
  events: Record<string, unknown>[];
  error: ShownError | undefined;
}) {
  return (
    <section aria-labelledby="h-events">
      <h2 id="h-events">Latest events</h2>
      <ErrorBox error={error} />
      {events.length === 0 ? (
        <p class="muted">No events.</p>
      ) : (
        <ol class="feed">
          {events.map((event, index) => (
            <li key={index}>{summarizeEvent(event)}</li>
          ))}
        </ol>
      )}
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
