/**
 * Records: every interface record, filtered by a selector (decided by the manager),
 * sorted, virtualized; the selected record's identity, partitions and applicable
 * policies in order, its tags edited as typed values, attach and detach.
 */
import { useMemo, useState } from 'preact/hooks';
import type { ApiResource } from '../../client/api-types.js';
import type { Interface } from '../../model/types.js';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { Field } from '../components/field.js';
import { VirtualTable, type Column } from '../components/virtual-table.js';
import { useModelVersion, useSession } from '../context.js';
import { RecordDetail } from './record-detail.js';
import { tagText } from './check.js';

type Row = Interface & Partial<ApiResource>;
type SortKey = 'name' | 'subnet' | 'instance' | 'ips';

/** The table's columns; a record's name selects it for the detail pane. */
function recordColumns(
  selected: string | undefined,
  onSelect: (name: string) => void,
): Column<Row>[] {
  return [
    {
      key: 'name',
      title: 'name',
      sortable: true,
      cell: (row) => (
        <button
          type="button"
          class="link"
          aria-pressed={row.name === selected}
          onClick={() => onSelect(row.name)}
        >
          {row.name}
        </button>
      ),
    },
    { key: 'subnet', title: 'subnet', sortable: true, cell: (row) => row.subnet },
    { key: 'ips', title: 'addresses', sortable: true, cell: (row) => row.ips.join(', ') },
    { key: 'instance', title: 'instance', sortable: true, cell: (row) => row.instance ?? '—' },
    { key: 'tags', title: 'tags', cell: (row) => <span class="tags">{tagText(row.tags)}</span> },
  ];
}

function compare(key: SortKey): (a: Row, b: Row) => number {
  const value = (row: Row) =>
    key === 'ips' ? (row.ips[0] ?? '') : key === 'instance' ? (row.instance ?? '') : row[key];
  return (a, b) => (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0);
}

export function RecordsPage() {
  const { client, model } = useSession();
  const version = useModelVersion();
  const [selector, setSelector] = useState('');
  const [matching, setMatching] = useState<Set<string> | undefined>();
  const [error, setError] = useState<ShownError>();
  const [sort, setSort] = useState<{ key: SortKey; dir: 'asc' | 'desc' }>({
    key: 'name',
    dir: 'asc',
  });
  const [selected, setSelected] = useState<string>();
  const all = model.list('Interface') as Row[];
  const rows = useMemo(() => {
    const list = matching ? all.filter((row) => matching.has(row.name)) : all;
    const sorted = [...list].sort(compare(sort.key));
    return sort.dir === 'asc' ? sorted : sorted.reverse();
  }, [version, matching, sort]);
  const filter = async (e: Event) => {
    e.preventDefault();
    if (selector.trim() === '') {
      setMatching(undefined);
      setError(undefined);
      return;
    }
    try {
      const found = await client.list('Interface', { selector });
      setMatching(new Set(found.map((resource) => resource.name)));
      setError(undefined);
    } catch (err) {
      setError(shownError(err));
    }
  };
  const columns = recordColumns(selected, setSelected);
  const record = selected ? (model.get('Interface', selected) as Row | undefined) : undefined;
  return (
    <section
      data-page="records"
      data-ready={model.loaded ? 'true' : 'false'}
      aria-labelledby="h-records"
    >
      <h1 id="h-records">Records</h1>
      <form class="inline" onSubmit={filter}>
        <Field
          id="records-selector"
          label="selector"
          value={selector}
          onValue={setSelector}
          placeholder='env == "prod" && tier >= 2'
          invalid={error !== undefined}
        />
        <button type="submit">Filter</button>
        <span class="muted" aria-live="polite">
          {rows.length} of {all.length} records
          {model.complete ? '' : ` (loading: ${all.length} of ${model.count('Interface')} so far)`}
        </span>
      </form>
      <ErrorBox error={error} />
      <div class="split">
        <VirtualTable
          label="records"
          rows={rows}
          columns={columns}
          rowKey={(row) => row.name}
          sort={sort}
          selected={selected}
          onSort={(key) =>
            setSort((previous) => ({
              key: key as SortKey,
              dir: previous.key === key && previous.dir === 'asc' ? 'desc' : 'asc',
            }))
          }
        />
        {record && <RecordDetail key={record.name} record={record} />}
      </div>
    </section>
  );
}
