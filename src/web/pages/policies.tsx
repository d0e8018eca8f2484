/**
 * Policies and partitions in priority order (audit badge), and the YAML editor: syntax
 * checked as you type; Preview runs the apply as a dry run (diff, `kind: Test`
 * results, rule warnings, impact); Apply is possible only after a preview of exactly
 * this text in which every test passed.
 */
import { useState } from 'preact/hooks';
import { stringify } from 'yaml';
import type { ApiResource, ApplyResult, FlowReplay, TestOutcome } from '../../client/api-types.js';
import type { Document, Partition, Policy } from '../../model/types.js';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { FlowReplayTable, REPLAY_WINDOW } from '../components/flow-replay.js';
import { ImpactTable, type Impact } from '../components/impact.js';
import { may, useModelVersion, useSession } from '../context.js';
import { parseYamlDocuments } from '../yaml-check.js';

/** A stored resource as an editable document (server-set fields dropped). */
export function editable(r: ApiResource): Record<string, unknown> {
  const {
    revision: _r,
    createdAt: _c,
    updatedAt: _u,
    ...doc
  } = r as ApiResource & Record<string, unknown>;
  return doc;
}

const TEMPLATE = `kind: Policy
name: new-policy
priority: 100
appliesTo: app == "web"
ingress: []
egress: []
---
kind: Test
name: example-test
src: web-1
dst: db-1
proto: tcp
port: 5432
expect: deny
`;

type Preview = ApplyResult & { impact?: Impact; againstFlows?: FlowReplay };

function passed(t: TestOutcome): boolean {
  return t.passed ?? t.ok ?? false;
}

function Editor({ initial }: { initial: string }) {
  const { client, role } = useSession();
  const [text, setText] = useState(initial);
  const [preview, setPreview] = useState<{ text: string; result: Preview }>();
  const [error, setError] = useState<ShownError>();
  const [applied, setApplied] = useState<string>();
  const { documents, problems } = parseYamlDocuments(text);
  const admin = may(role, 'admin');
  const current = preview?.text === text ? preview.result : undefined;
  // A dry run whose tests fail is refused too (422 VNP_ERR_TEST_FAILED, details.failed).
  const refusedTests =
    error?.code === 'VNP_ERR_TEST_FAILED' && Array.isArray(error.details?.failed)
      ? (error.details.failed as TestOutcome[])
      : [];
  const failing = current ? current.tests.filter((t) => !passed(t)) : refusedTests;
  const run = async (dryRun: boolean) => {
    setApplied(undefined);
    try {
      const docs = documents as unknown as Document[];
      // A preview also replays the last hour's observed flows through the change.
      const [result, replay] = await Promise.all([
        client.apply({ documents: docs, dryRun }) as Promise<Preview>,
        dryRun
          ? client
              .impact({ documents: docs, againstFlows: REPLAY_WINDOW, limit: 1 })
              .then((r) => r.againstFlows)
          : undefined,
      ]);
      if (replay) result.againstFlows = replay;
      setError(undefined);
      if (dryRun) setPreview({ text, result });
      else {
        setPreview(undefined);
        setApplied(`applied at revision ${result.revision}`);
      }
    } catch (e) {
      setError(shownError(e));
    }
  };
  return (
    <section aria-labelledby="h-editor">
      <h2 id="h-editor">Editor</h2>
      <label for="yaml">YAML documents (policies, partitions, any kind, and kind: Test)</label>
      <textarea
        id="yaml"
        spellcheck={false}
        rows={18}
        value={text}
        readOnly={!admin}
        aria-invalid={problems.length > 0 ? 'true' : undefined}
        aria-describedby="yaml-status"
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <div id="yaml-status" role="status">
        {problems.length === 0 ? (
          <span class="ok">{documents.length} document(s), syntax OK</span>
        ) : (
          <ul class="problems">
            {problems.map((p, i) => (
              <li key={i}>
                line {p.line}, column {p.col}: {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {admin && (
        <p>
          <button
            type="button"
            disabled={problems.length > 0 || documents.length === 0}
            onClick={() => run(true)}
          >
            Preview
          </button>{' '}
          <button
            type="button"
            disabled={!current || failing.length > 0}
            title={
              !current ? 'preview this text first' : failing.length > 0 ? 'a test fails' : undefined
            }
            onClick={() => run(false)}
          >
            Apply
          </button>{' '}
          <span role="status">{applied}</span>
        </p>
      )}
      <ErrorBox error={error} />
      {failing.length > 0 && (
        <div class="error" role="alert">
          Apply blocked: {failing.length} test(s) fail —{' '}
          {failing
            .map(
              (t) =>
                `${t.name}: expected ${t.expect}, got ${t.got ?? t.verdict ?? '?'}${t.reason ? ` (${t.reason})` : ''}`,
            )
            .join('; ')}
        </div>
      )}
      {refusedTests.length > 0 && <TestResults tests={refusedTests} />}
      {current && (
        <div class="preview" data-testid="preview">
          <h3>Changes</h3>
          <ul>
            {current.diff
              .filter((d) => d.op !== 'unchanged')
              .map((d) => (
                <li key={`${d.kind}/${d.name}`}>
                  {d.op} {d.kind}/{d.name}
                </li>
              ))}
          </ul>
          <TestResults tests={current.tests} />
          {(current.ruleWarnings ?? []).length > 0 && (
            <ul class="warnings">
              {current.ruleWarnings!.map((w, i) => (
                <li key={i}>{w.message}</li>
              ))}
            </ul>
          )}
          {current.impact && <ImpactTable impact={current.impact} />}
          {current.againstFlows && <FlowReplayTable replay={current.againstFlows} />}
        </div>
      )}
    </section>
  );
}

function TestResults({ tests }: { tests: TestOutcome[] }) {
  if (tests.length === 0) return null;
  return (
    <table data-testid="tests">
      <caption>Tests</caption>
      <thead>
        <tr>
          <th scope="col">test</th>
          <th scope="col">result</th>
          <th scope="col">why</th>
        </tr>
      </thead>
      <tbody>
        {tests.map((t) => (
          <tr key={t.name}>
            <td>{t.name}</td>
            <td class={passed(t) ? 'verdict allow' : 'verdict deny'}>
              {passed(t) ? 'pass' : 'FAIL'}: expected {t.expect}, got {t.got ?? t.verdict ?? '?'}
            </td>
            <td>{t.reason ?? t.message ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PoliciesPage() {
  const { model } = useSession();
  const version = useModelVersion();
  const [initial, setInitial] = useState<{ text: string; at: number }>({ text: TEMPLATE, at: 0 });
  const policies = (model.list('Policy') as (Policy & ApiResource)[]).sort(
    (a, b) => b.priority - a.priority || (a.name < b.name ? -1 : 1),
  );
  const partitions = (model.list('Partition') as (Partition & ApiResource)[]).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );
  const edit = (r: ApiResource) => setInitial({ text: stringify(editable(r)), at: Date.now() });
  return (
    <section
      data-page="policies"
      data-ready={model.loaded ? 'true' : 'false'}
      aria-labelledby="h-policies"
      data-version={version}
    >
      <h1 id="h-policies">Policies and partitions</h1>
      <div class="split">
        <div class="list">
          <table>
            <caption>Policies by priority (highest decides first)</caption>
            <thead>
              <tr>
                <th scope="col">priority</th>
                <th scope="col">policy</th>
                <th scope="col">applies to</th>
              </tr>
            </thead>
            <tbody>
              {policies.slice(0, 500).map((p) => (
                <tr key={p.name}>
                  <td>{p.priority}</td>
                  <td>
                    <button type="button" class="link" onClick={() => edit(p)}>
                      {p.name}
                    </button>{' '}
                    {p.mode === 'audit' && <span class="badge">audit</span>}
                  </td>
                  <td>
                    <code>{p.appliesTo}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {policies.length > 500 && (
            <p class="muted">{policies.length - 500} more (filter on the records page)</p>
          )}
          <table>
            <caption>Partitions</caption>
            <thead>
              <tr>
                <th scope="col">partition</th>
                <th scope="col">selector</th>
                <th scope="col">intra</th>
              </tr>
            </thead>
            <tbody>
              {partitions.map((p) => (
                <tr key={p.name}>
                  <td>
                    <button type="button" class="link" onClick={() => edit(p)}>
                      {p.name}
                    </button>
                  </td>
                  <td>
                    <code>{p.selector}</code>
                  </td>
                  <td>{p.intra}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Editor key={initial.at} initial={initial.text} />
      </div>
    </section>
  );
}
