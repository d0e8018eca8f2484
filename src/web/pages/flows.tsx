/**
 * Flows, like Hubble UI's: the latest flow records the PEPs reported, filtered by
 * verdict, policy, source and destination (decided by the manager), then live from
 * `/v1/flows/watch` with the same filters.
 */
import { useEffect, useState } from 'preact/hooks';
import type { FlowFilters, StoredFlow } from '../../client/api-types.js';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { Choice, Field } from '../components/field.js';
import { VirtualTable, type Column } from '../components/virtual-table.js';
import { useSession } from '../context.js';

const KEEP = 2000;

/**
 * One end of a flow as the table shows it.
 *
 * @example endText({ address: '10.0.0.5', port: 40512, record: 'web-1', identity: 300, partitions: [] }) // 'web-1 (10.0.0.5)'
 */
export function endText(e: StoredFlow['src']): string {
  return e.record !== undefined ? `${e.record} (${e.address})` : e.address;
}

function decided(f: StoredFlow): string {
  const side =
    f.egress?.verdict === f.verdict
      ? f.egress
      : f.ingress?.verdict === f.verdict
        ? f.ingress
        : undefined;
  if (!side) return '—';
  return side.policy !== undefined
    ? `${side.policy} ${side.rule ?? ''}`
    : `default ${side.default ?? side.verdict}`;
}

const COLUMNS: Column<StoredFlow>[] = [
  { key: 'time', title: 'time', cell: (f) => f.time.replace('T', ' ').replace('Z', '') },
  { key: 'src', title: 'from', cell: (f) => endText(f.src) },
  { key: 'dst', title: 'to', cell: (f) => endText(f.dst) },
  { key: 'port', title: 'protocol/port', cell: (f) => `${f.protocol}/${f.port}` },
  {
    key: 'verdict',
    title: 'verdict',
    cell: (f) => <span class={`verdict ${f.verdict}`}>{f.verdict}</span>,
  },
  { key: 'policy', title: 'decided by', cell: decided },
  { key: 'host', title: 'host', cell: (f) => f.host },
  { key: 'state', title: 'state', cell: (f) => f.state },
];

/**
 * The flows a filter shows: what it showed last time at once, then a listing and the
 * watch merged by id, newest first, at most KEEP.
 */
function useLiveFlows(filters: FlowFilters): {
  rows: StoredFlow[] | undefined;
  error: ShownError | undefined;
} {
  const { client, model } = useSession();
  const [rows, setRows] = useState<StoredFlow[]>();
  const [error, setError] = useState<ShownError>();
  useEffect(() => {
    const abort = new AbortController();
    let live = true;
    // What this filter showed last time, at once (a page switch waits for no listing);
    // the listing and the watch then merge in what is new.
    const kept = `flows?${JSON.stringify(filters)}`;
    setRows(model.answers.get<StoredFlow[]>(kept));
    // The watch starts first and a listing is merged in by id, twice (at once and a
    // second later): a flow stored between a listing and the watch's subscription
    // would otherwise be in neither.
    const merge = (incoming: StoredFlow[]) =>
      setRows((shown) => {
        const merged = mergeFlows(shown ?? [], incoming).slice(0, KEEP);
        model.answers.set(kept, merged);
        return merged;
      });
    const list = () =>
      client.flows({ ...filters, limit: 500 }).then(
        (page) => {
          if (!live) return;
          merge(page.items);
          setError(undefined);
        },
        (failure: unknown) => {
          if (!live) return;
          setRows((shown) => shown ?? []);
          setError(shownError(failure));
        },
      );
    void (async () => {
      try {
        for await (const flow of client.watchFlows(filters, { signal: abort.signal }))
          merge([flow]);
      } catch (failure) {
        if (live) setError(shownError(failure));
      }
    })();
    void list();
    const again = setTimeout(() => void list(), 1000);
    return () => {
      live = false;
      clearTimeout(again);
      abort.abort();
    };
  }, [filters]);
  return { rows, error };
}

/** The filter form; the filters apply on submit. */
function FlowFilterForm({
  rows,
  error,
  onFilters,
}: {
  rows: StoredFlow[] | undefined;
  error: ShownError | undefined;
  onFilters: (filters: FlowFilters) => void;
}) {
  const [verdict, setVerdict] = useState('');
  const [policy, setPolicy] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    const filters: FlowFilters = {};
    if (verdict === 'allow' || verdict === 'deny') filters.verdict = verdict;
    if (policy.trim() !== '') filters.policy = policy.trim();
    if (from.trim() !== '') filters.from = from.trim();
    if (to.trim() !== '') filters.to = to.trim();
    onFilters(filters);
  };
  return (
    <form class="inline" onSubmit={submit}>
      <Choice
        id="flows-verdict"
        label="verdict"
        value={verdict}
        options={['', 'allow', 'deny']}
        onValue={setVerdict}
      />
      <Field
        id="flows-policy"
        label="policy"
        value={policy}
        onValue={setPolicy}
        invalid={error?.field === 'policy'}
      />
      <Field
        id="flows-from"
        label="from"
        value={from}
        onValue={setFrom}
        placeholder="record, prefix or selector"
        invalid={error?.field === 'from'}
      />
      <Field
        id="flows-to"
        label="to"
        value={to}
        onValue={setTo}
        placeholder="record, prefix or selector"
        invalid={error?.field === 'to'}
      />
      <button type="submit">Filter</button>
      <span class="muted" aria-live="polite">
        {rows ? `${rows.length} flows (live)` : 'loading…'}
      </span>
    </form>
  );
}

export function FlowsPage() {
  const [filters, setFilters] = useState<FlowFilters>({});
  const { rows, error } = useLiveFlows(filters);
  return (
    <section data-page="flows" data-ready={rows ? 'true' : 'false'} aria-labelledby="h-flows">
      <h1 id="h-flows">Flows</h1>
      <FlowFilterForm rows={rows} error={error} onFilters={setFilters} />
      <ErrorBox error={error} />
      <VirtualTable
        label="flows"
        rows={rows ?? []}
        columns={COLUMNS}
        rowKey={(flow) => String(flow.id)}
      />
    </section>
  );
}

/** Newest first, each flow once (by id). */
function mergeFlows(have: StoredFlow[], incoming: StoredFlow[]): StoredFlow[] {
  const byId = new Map(have.map((flow) => [flow.id, flow]));
  for (const flow of incoming) byId.set(flow.id, flow);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}
