/**
 * History: revisions newest first; a revision's field-level diff; rollback to it
 * (admin) — first the preview (what would change, which flows flip), then confirm.
 */
import { useState } from 'preact/hooks';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { ImpactTable, type Impact } from '../components/impact.js';
import { may, useModelVersion, useSession } from '../context.js';
import { fieldDiff } from '../field-diff.js';
import { useApi, useCachedApi } from '../use-api.js';

interface Revision {
  revision: number;
  at: string;
  actor: string;
  action: string;
  summary: string;
  changes: number;
}

interface Change {
  op: string;
  kind: string;
  name: string;
  before?: unknown;
  after?: unknown;
}

function cell(v: unknown): string {
  return v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
}

function ChangeList({ changes }: { changes: Change[] }) {
  if (changes.length === 0) return <p>No resource differs.</p>;
  return (
    <div>
      {changes.map((c) => (
        <table key={`${c.kind}/${c.name}`} class="diff">
          <caption>
            {c.op} {c.kind}/{c.name}
          </caption>
          <thead>
            <tr>
              <th scope="col">field</th>
              <th scope="col">before</th>
              <th scope="col">after</th>
            </tr>
          </thead>
          <tbody>
            {fieldDiff(c.before, c.after).map((f) => (
              <tr key={f.path}>
                <td>
                  <code>{f.path}</code>
                </td>
                <td class="del">{cell(f.before)}</td>
                <td class="add">{cell(f.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}

function Rollback({ revision }: { revision: number }) {
  const { client } = useSession();
  const [preview, setPreview] = useState<{ diff: Change[]; impact?: Impact }>();
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<ShownError>();
  const call = async (dryRun: boolean) => {
    try {
      const r = await client.request<{ revision?: number; diff: Change[]; impact?: Impact }>(
        'POST',
        '/v1/rollback',
        {
          body: { revision, dryRun },
        },
      );
      setError(undefined);
      if (dryRun) setPreview(r);
      else {
        setPreview(undefined);
        setDone(`rolled back to r${revision} as revision ${r.revision}`);
      }
    } catch (e) {
      setError(shownError(e));
    }
  };
  return (
    <section aria-labelledby="h-rollback">
      <h3 id="h-rollback">Roll back to r{revision}</h3>
      <button type="button" onClick={() => call(true)}>
        Preview rollback
      </button>
      <span role="status"> {done}</span>
      <ErrorBox error={error} />
      {preview && (
        <div class="preview" data-testid="rollback-preview">
          <ChangeList changes={preview.diff} />
          {preview.impact && <ImpactTable impact={preview.impact} />}
          <p>
            <button type="button" class="danger" onClick={() => call(false)}>
              Confirm rollback to r{revision}
            </button>{' '}
            <button type="button" onClick={() => setPreview(undefined)}>
              Cancel
            </button>
          </p>
        </div>
      )}
    </section>
  );
}

export function HistoryPage() {
  const { client, role, model } = useSession();
  useModelVersion();
  const history = useCachedApi(model.answers, `history@${model.revision}`, () =>
    client.request<{ items: Revision[] }>('GET', '/v1/history', { query: { limit: 100 } }),
  );
  const [selected, setSelected] = useState<number>();
  const diff = useApi(
    () =>
      selected === undefined
        ? Promise.resolve(undefined)
        : client.request<{ changes: Change[] }>('GET', '/v1/diff', {
            query: { from: selected - 1, to: selected },
          }),
    [selected],
  );
  return (
    <section
      data-page="history"
      data-ready={history.data ? 'true' : 'false'}
      aria-labelledby="h-history"
    >
      <h1 id="h-history">History</h1>
      <ErrorBox error={history.error} />
      <div class="split">
        <table>
          <caption>Revisions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">revision</th>
              <th scope="col">when</th>
              <th scope="col">who</th>
              <th scope="col">what</th>
            </tr>
          </thead>
          <tbody>
            {(history.data?.items ?? []).map((r) => (
              <tr key={r.revision} class={r.revision === selected ? 'selected' : ''}>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-pressed={r.revision === selected}
                    onClick={() => setSelected(r.revision)}
                  >
                    r{r.revision}
                  </button>
                </td>
                <td>{r.at}</td>
                <td>{r.actor}</td>
                <td>
                  {r.action} <span class="muted">{r.summary}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {selected !== undefined && (
          <aside class="detail" aria-labelledby="h-rev">
            <h2 id="h-rev">r{selected}: what changed</h2>
            <ErrorBox error={diff.error} />
            {diff.data && <ChangeList changes={diff.data.changes} />}
            {may(role, 'admin') && <Rollback key={selected} revision={selected} />}
          </aside>
        )}
      </div>
    </section>
  );
}
