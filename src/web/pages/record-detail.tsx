/** One record: identity, partitions, applicable policies, typed tag editing, attach/detach. */
import { useState } from 'preact/hooks';
import type { ResolvedPolicy, ResolvedRule, TagPatch } from '../../client/api-types.js';
import type { Interface } from '../../model/types.js';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { may, useModelVersion, useSession } from '../context.js';
import { TAG_TYPES, patchOf, rowOf, type TagRow, type TagType } from '../tag-values.js';
import { useApi } from '../use-api.js';

/** One tag: its key, type and value as typed, and a remove button when editable. */
function TagRowEditor({
  row,
  index,
  editable,
  onChange,
  onRemove,
}: {
  row: TagRow;
  index: number;
  editable: boolean;
  onChange: (patch: Partial<TagRow>) => void;
  onRemove: () => void;
}) {
  const name = row.key || `tag ${index + 1}`;
  return (
    <tr>
      <td>
        <input
          aria-label={`key ${index + 1}`}
          value={row.key}
          disabled={!editable}
          onInput={(event) => onChange({ key: (event.target as HTMLInputElement).value })}
        />
      </td>
      <td>
        <select
          aria-label={`type of ${name}`}
          value={row.type}
          disabled={!editable}
          onChange={(event) =>
            onChange({ type: (event.target as HTMLSelectElement).value as TagType })
          }
        >
          {TAG_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
      </td>
      <td>
        <input
          aria-label={`value of ${name}`}
          value={row.text}
          disabled={!editable}
          onInput={(event) => onChange({ text: (event.target as HTMLInputElement).value })}
        />
      </td>
      {editable && (
        <td>
          <button type="button" aria-label={`remove ${row.key}`} onClick={onRemove}>
            ✕
          </button>
        </td>
      )}
    </tr>
  );
}

function TagEditor({ record }: { record: Interface }) {
  const { client, role } = useSession();
  const [rows, setRows] = useState<TagRow[]>(() =>
    Object.entries(record.tags).map(([k, v]) => rowOf(k, v)),
  );
  const [error, setError] = useState<ShownError>();
  const [saved, setSaved] = useState<string>();
  const editable = may(role, 'operate');
  const update = (i: number, patch: Partial<TagRow>) =>
    setRows((shown) => shown.map((row, other) => (other === i ? { ...row, ...patch } : row)));
  const save = async (e: Event) => {
    e.preventDefault();
    const patch = patchOf(record.tags, rows);
    if ('error' in patch) {
      setError({ code: 'VNP_ERR_VALIDATION', message: patch.error });
      return;
    }
    try {
      const after = await client.patchTags(record.name, patch as TagPatch);
      setError(undefined);
      setSaved(`saved at revision ${String((after as { revision?: number }).revision ?? '')}`);
    } catch (err) {
      setSaved(undefined);
      setError(shownError(err));
    }
  };
  return (
    <form onSubmit={save} aria-labelledby="h-tags">
      <h3 id="h-tags">Tags</h3>
      <table class="tags-edit">
        <thead>
          <tr>
            <th scope="col">key</th>
            <th scope="col">type</th>
            <th scope="col">value</th>
            {editable && (
              <th scope="col">
                <span class="sr-only">remove</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <TagRowEditor
              key={index}
              row={row}
              index={index}
              editable={editable}
              onChange={(patch) => update(index, patch)}
              onRemove={() => setRows((shown) => shown.filter((_, other) => other !== index))}
            />
          ))}
        </tbody>
      </table>
      {editable && (
        <p>
          <button
            type="button"
            onClick={() => setRows((shown) => [...shown, { key: '', type: 'string', text: '' }])}
          >
            Add tag
          </button>{' '}
          <button type="submit">Save tags</button> <span role="status">{saved}</span>
        </p>
      )}
      <ErrorBox error={error} />
    </form>
  );
}

function Attachment({ record }: { record: Interface }) {
  const { client, model, role } = useSession();
  const instances = model.list('Instance').map((i) => i.name);
  const [instance, setInstance] = useState(instances[0] ?? '');
  const [error, setError] = useState<ShownError>();
  if (!may(role, 'operate')) return <p>instance: {record.instance ?? 'not attached'}</p>;
  const run = async (f: () => Promise<unknown>) => {
    try {
      await f();
      setError(undefined);
    } catch (err) {
      setError(shownError(err));
    }
  };
  return (
    <div>
      <p>instance: {record.instance ?? 'not attached'}</p>
      <label for="attach-instance">attach to</label>{' '}
      <select
        id="attach-instance"
        value={instance}
        onChange={(e) => setInstance((e.target as HTMLSelectElement).value)}
      >
        {instances.map((n) => (
          <option key={n}>{n}</option>
        ))}
      </select>{' '}
      <button type="button" onClick={() => run(() => client.attach(record.name, instance))}>
        Attach
      </button>{' '}
      {record.instance && (
        <button type="button" onClick={() => run(() => client.detach(record.name))}>
          Detach
        </button>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

export function RecordDetail({ record }: { record: Interface }) {
  const { client } = useSession();
  const version = useModelVersion();
  const self = useApi(
    () => client.check({ src: record.name, dst: record.name, protocol: 'tcp', port: 1 }),
    [version],
  );
  const policies = useApi<ResolvedPolicy>(() => client.policyForTags(record.tags), [version]);
  return (
    <aside class="detail" aria-labelledby="h-record">
      <h2 id="h-record">{record.name}</h2>
      <p>
        subnet {record.subnet} · {record.ips.join(', ')}
        {record.mac ? ` · ${record.mac}` : ''}
      </p>
      <p data-testid="identity">
        identity {self.data?.src.identity ?? '…'} · partitions{' '}
        {self.data ? self.data.src.partitions.join(', ') || 'none' : '…'}
      </p>
      <Attachment record={record} />
      <TagEditor key={JSON.stringify(record.tags)} record={record} />
      <h3>Applicable policies, in order</h3>
      <ErrorBox error={policies.error ?? self.error} />
      <ol data-testid="policies">
        {(policies.data?.policies ?? []).map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ol>
      <RuleList title="Egress rules" rules={policies.data?.egress ?? []} />
      <RuleList title="Ingress rules" rules={policies.data?.ingress ?? []} />
    </aside>
  );
}

/** Peer of a resolved rule as one phrase. */
function peerText(peer: ResolvedRule['peer']): string {
  if (peer === 'any') return 'any';
  return [
    peer.partition !== undefined ? `partition ${peer.partition}` : '',
    peer.selector !== undefined ? peer.selector : '',
    peer.cidr !== undefined
      ? `${peer.cidr}${peer.except?.length ? ` except ${peer.except.join(', ')}` : ''}`
      : '',
  ]
    .filter((x) => x !== '')
    .join(' · ');
}

function RuleList({ title, rules }: { title: string; rules: ResolvedRule[] }) {
  if (rules.length === 0) return null;
  return (
    <table>
      <caption>{title}, in precedence order</caption>
      <thead>
        <tr>
          <th scope="col">policy</th>
          <th scope="col">rule</th>
          <th scope="col">action</th>
          <th scope="col">peer</th>
          <th scope="col">ports</th>
        </tr>
      </thead>
      <tbody>
        {rules.map((r) => (
          <tr key={`${r.policy}-${r.rule}`} class={r.shadowed ? 'muted' : ''}>
            <td>
              {r.policy} {r.mode === 'audit' && <span class="badge">audit</span>}
            </td>
            <td>
              {r.rule} (p{r.priority}){r.shadowed ? ' shadowed' : ''}
            </td>
            <td class={`verdict ${r.action}`}>{r.action}</td>
            <td>{peerText(r.peer)}</td>
            <td>{r.ports === 'all' ? 'all' : r.ports.join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
