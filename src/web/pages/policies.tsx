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

function YamlStatus({
  documents,
  problems,
}: {
  documents: number;
  problems: ReturnType<typeof parseYamlDocuments>['problems'];
}) {
  return (
    <div id="yaml-status" role="status">
      {problems.length === 0 ? (
        <span class="ok">{documents} document(s), syntax OK</span>
      ) : (
        <ul class="problems">
          {problems.map((problem, index) => (
            <li key={index}>
              line {problem.line}, column {problem.col}: {problem.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Preview, and Apply — disabled with the reason (`blocked`) until a passing preview. */
function ApplyButtons({
  canPreview,
  blocked,
  applied,
  onRun,
}: {
  canPreview: boolean;
  blocked: string | undefined;
  applied: string | undefined;
  onRun: (dryRun: boolean) => Promise<void>;
}) {
  return (
    <p>
      <button type="button" disabled={!canPreview} onClick={() => onRun(true)}>
        Preview
      </button>{' '}
      <button
        type="button"
        disabled={blocked !== undefined}
        title={blocked}
        onClick={() => onRun(false)}
      >
        Apply
      </button>{' '}
      <span role="status">{applied}</span>
    </p>
  );
}

function FailingTests({ failing }: { failing: TestOutcome[] }) {
  if (failing.length === 0) return null;
  return (
    <div class="error" role="alert">
      Apply blocked: {failing.length} test(s) fail —{' '}
      {failing
        .map(
          (test) =>
            `${test.name}: expected ${test.expect}, got ${test.got ?? test.verdict ?? '?'}${test.reason ? ` (${test.reason})` : ''}`,
        )
        .join('; ')}
    </div>
  );
}

/** What a dry run of this text would do: the diff, tests, warnings, impact and replay. */
function PreviewPanel({ preview }: { preview: Preview }) {
  return (
    <div class="preview" data-testid="preview">
      <h3>Changes</h3>
      <ul>
        {preview.diff
          .filter((change) => change.op !== 'unchanged')
          .map((change) => (
            <li key={`${change.kind}/${change.name}`}>
              {change.op} {change.kind}/{change.name}
            </li>
          ))}
      </ul>
      <TestResults tests={preview.tests} />
      {(preview.ruleWarnings ?? []).length > 0 && (
        <ul class="warnings">
          {preview.ruleWarnings!.map((warning, index) => (
            <li key={index}>{warning.message}</li>
          ))}
        </ul>
      )}
      {preview.impact && <ImpactTable impact={preview.impact} />}
      {preview.againstFlows && <FlowReplayTable replay={preview.againstFlows} />}
    </div>
  );
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
  const failing = current ? current.tests.filter((test) => !passed(test)) : refusedTests;
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
      <YamlStatus documents={documents.length} problems={problems} />
      {admin && (
        <ApplyButtons
          canPreview={problems.length === 0 && documents.length > 0}
          blocked={
            !current ? 'preview this text first' : failing.length > 0 ? 'a test fails' : undefined
          }
          applied={applied}
          onRun={run}
        />
      )}
      <ErrorBox error={error} />
      <FailingTests failing={failing} />
      {refusedTests.length > 0 && <TestResults tests={refusedTests} />}
      {current && <PreviewPanel preview={current} />}
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

function PolicyTable({
  policies,
  onEdit,
}: {
  policies: (Policy & ApiResource)[];
  onEdit: (resource: ApiResource) => void;
}) {
  return (
    <>
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
          {policies.slice(0, 500).map((policy) => (
            <tr key={policy.name}>
              <td>{policy.priority}</td>
              <td>
                <button type="button" class="link" onClick={() => onEdit(policy)}>
                  {policy.name}
                </button>{' '}
                {policy.mode === 'audit' && <span class="badge">audit</span>}
              </td>
              <td>
                <code>{policy.appliesTo}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {policies.length > 500 && (
        <p class="muted">{policies.length - 500} more (filter on the records page)</p>
      )}
    </>
  );
}

function PartitionTable({
  partitions,
  onEdit,
}: {
  partitions: (Partition & ApiResource)[];
  onEdit: (resource: ApiResource) => void;
}) {
  return (
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
        {partitions.map((partition) => (
          <tr key={partition.name}>
            <td>
              <button type="button" class="link" onClick={() => onEdit(partition)}>
                {partition.name}
              </button>
            </td>
            <td>
              <code>{partition.selector}</code>
            </td>
            <td>{partition.intra}</td>
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
          <PolicyTable policies={policies} onEdit={edit} />
          <PartitionTable partitions={partitions} onEdit={edit} />
        </div>
        <Editor key={initial.at} initial={initial.text} />
      </div>
    </section>
  );
}
