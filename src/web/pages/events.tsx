/** Events and reactions: recent events, reactions, and pending expiries counting down. */
import { useEffect, useState } from 'preact/hooks';
import type { Reaction } from '../../model/types.js';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { Field } from '../components/field.js';
import { may, useModelVersion, useSession } from '../context.js';
import {
  countdown,
  pendingAt,
  type EventItem,
  type Expiry,
  type PendingExpiry,
} from '../expiries.js';
import { useApi } from '../use-api.js';
import { tagText } from './check.js';

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

function ReportEvent() {
  const { client } = useSession();
  const [type, setType] = useState('');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<ShownError>();
  const [done, setDone] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await client.event(type, target);
      setError(undefined);
      setDone(
        `reported; ${JSON.stringify((r as { event?: { reactions?: string[] } }).event?.reactions ?? [])} fired`,
      );
    } catch (err) {
      setDone(undefined);
      setError(shownError(err));
    }
  };
  return (
    <form class="inline" onSubmit={submit} aria-label="Report an event">
      <Field
        id="event-type"
        label="type"
        value={type}
        onValue={setType}
        invalid={error?.field === 'type'}
      />
      <Field
        id="event-target"
        label="target"
        value={target}
        onValue={setTarget}
        invalid={error?.field === 'target'}
      />
      <button type="submit">Report event</button> <span role="status">{done}</span>
      <ErrorBox error={error} />
    </form>
  );
}

function PendingExpiries({ pending, now }: { pending: Expiry[]; now: number }) {
  return (
    <section aria-labelledby="h-expiries">
      <h2 id="h-expiries">Pending expiries</h2>
      {pending.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">record</th>
              <th scope="col">reaction</th>
              <th scope="col">undone in</th>
            </tr>
          </thead>
          <tbody>
            {pending.map((expiry) => (
              <tr key={`${expiry.record}/${expiry.reaction}`}>
                <td>{expiry.record}</td>
                <td>{expiry.reaction}</td>
                <td class="countdown">{countdown(expiry.expiresAt - now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ReactionTable({ reactions }: { reactions: Reaction[] }) {
  return (
    <section aria-labelledby="h-reactions">
      <h2 id="h-reactions">Reactions</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">reaction</th>
            <th scope="col">on</th>
            <th scope="col">does</th>
            <th scope="col">ttl</th>
          </tr>
        </thead>
        <tbody>
          {reactions.map((reaction) => (
            <tr key={reaction.name}>
              <td>{reaction.name}</td>
              <td>
                <code>{reaction.on}</code>
                {reaction.match ? ` if ${reaction.match}` : ''}
              </td>
              <td>
                {reaction.addTags ? `add ${tagText(reaction.addTags)}` : ''}{' '}
                {reaction.removeTags?.length ? `remove ${reaction.removeTags.join(', ')}` : ''}
              </td>
              <td>{reaction.ttl === undefined ? '—' : `${reaction.ttl} s`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function RecentEvents({ events, version }: { events: EventItem[]; version: number }) {
  return (
    <section aria-labelledby="h-recent" data-version={version}>
      <h2 id="h-recent">Recent events</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">when</th>
            <th scope="col">type</th>
            <th scope="col">target</th>
            <th scope="col">reactions fired</th>
          </tr>
        </thead>
        <tbody>
          {events.slice(0, 100).map((event, index) => (
            <tr key={index}>
              <td>{event.at}</td>
              <td>{event.type}</td>
              <td>{event.record ?? event.target}</td>
              <td>{(event.reactions ?? []).join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function EventsPage() {
  const { client, model, role } = useSession();
  const version = useModelVersion();
  const now = useNow(1000);
  const events = useApi(
    () => client.request<{ items: EventItem[] }>('GET', '/v1/events', { query: { limit: 500 } }),
    [version],
    5000,
  );
  // The manager's pending expiries (moved by a repeated event, dropped when undone).
  const expiries = useApi(
    () => client.request<{ items: PendingExpiry[] }>('GET', '/v1/expiries'),
    [version],
    5000,
  );
  const reactions = model.list('Reaction') as unknown as Reaction[];
  const pending = pendingAt(expiries.data?.items ?? [], now);
  return (
    <section
      data-page="events"
      data-ready={events.data ? 'true' : 'false'}
      aria-labelledby="h-events-page"
    >
      <h1 id="h-events-page">Events and reactions</h1>
      {may(role, 'operate') && <ReportEvent />}
      <ErrorBox error={events.error ?? expiries.error} />
      <div class="columns">
        <PendingExpiries pending={pending} now={now} />
        <ReactionTable reactions={reactions} />
      </div>
      <RecentEvents events={events.data?.items ?? []} version={version} />
    </section>
  );
}
