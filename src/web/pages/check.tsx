/** Check and who-can-reach: the two questions, with the full explanation. */
import { useEffect, useState } from 'preact/hooks';
import type { CheckRequest, CheckResult } from '../../client/api-types.js';
import type { Protocol } from '../../model/types.js';
import { shownError, type ShownError } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { Explanation } from '../components/explanation.js';
import { Choice, Field } from '../components/field.js';
import { useModelVersion, useSession } from '../context.js';

const PROTOS = ['tcp', 'udp', 'sctp', 'icmp'] as const;

interface ReachEntry {
  identity: number;
  tags: Record<string, unknown>;
  records: number;
  examples: string[];
  address?: string;
  allowed: { proto: string; ports: [number, number] }[];
}

/** A port field's value as the API takes it: empty is none; anything else is sent as typed. */
function portOf(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

function CheckForm() {
  const { client } = useSession();
  const [src, setSrc] = useState('');
  const [dst, setDst] = useState('');
  const [proto, setProto] = useState<string>('tcp');
  const [port, setPort] = useState('');
  const [result, setResult] = useState<CheckResult>();
  const [error, setError] = useState<ShownError>();
  const [asked, setAsked] = useState<CheckRequest>();
  const version = useModelVersion();
  // The verdict stays live: asked again whenever the model changes.
  useEffect(() => {
    if (!asked) return;
    client.check(asked).then(
      (r) => {
        setResult(r);
        setError(undefined);
      },
      (err: unknown) => {
        setResult(undefined);
        setError(shownError(err));
      },
    );
  }, [asked, version]);
  const submit = (e: Event) => {
    e.preventDefault();
    const p = portOf(port);
    setAsked({ src, dst, protocol: proto as Protocol, ...(p !== undefined ? { port: p } : {}) });
  };
  return (
    <section aria-labelledby="h-check">
      <h2 id="h-check">Check a flow</h2>
      <form onSubmit={submit} class="inline">
        <Field
          id="check-src"
          label="from"
          value={src}
          onValue={setSrc}
          placeholder="record or address"
          invalid={error?.field === 'src'}
        />
        <Field
          id="check-dst"
          label="to"
          value={dst}
          onValue={setDst}
          placeholder="record or address"
          invalid={error?.field === 'dst'}
        />
        <Choice
          id="check-proto"
          label="protocol"
          value={proto}
          options={PROTOS}
          onValue={setProto}
        />
        <Field
          id="check-port"
          label="port"
          value={port}
          onValue={setPort}
          invalid={error?.field === 'port'}
        />
        <button type="submit">Check</button>
      </form>
      <ErrorBox error={error} />
      {result && <Explanation result={result} />}
    </section>
  );
}

/** The source classes that may reach a destination, with what each may send. */
function ReachTable({ rows, dst }: { rows: ReachEntry[]; dst: string }) {
  return (
    <table>
      <caption>
        {rows.length} source classes may reach {dst}
      </caption>
      <thead>
        <tr>
          <th scope="col">identity</th>
          <th scope="col">tags / address</th>
          <th scope="col">records</th>
          <th scope="col">allowed</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.identity}-${row.address ?? ''}`}>
            <td>{row.identity}</td>
            <td>{row.address ?? tagText(row.tags)}</td>
            <td>
              {row.records}{' '}
              {row.examples.length > 0 && <span class="muted">({row.examples.join(', ')})</span>}
            </td>
            <td>
              {row.allowed
                .map(
                  (allowed) =>
                    `${allowed.proto}/${allowed.ports[0] === allowed.ports[1] ? allowed.ports[0] : allowed.ports.join('-')}`,
                )
                .join(', ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReachForm() {
  const { client } = useSession();
  const [dst, setDst] = useState('');
  const [proto, setProto] = useState('');
  const [port, setPort] = useState('');
  const [rows, setRows] = useState<ReachEntry[]>();
  const [error, setError] = useState<ShownError>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const answer = await client.request<{ sources: ReachEntry[] }>('GET', '/v1/who-can-reach', {
        query: { dst, proto: proto || undefined, port: port.trim() || undefined },
      });
      setRows(answer.sources);
      setError(undefined);
    } catch (err) {
      setRows(undefined);
      setError(shownError(err));
    }
  };
  return (
    <section aria-labelledby="h-reach">
      <h2 id="h-reach">Who can reach</h2>
      <form onSubmit={submit} class="inline">
        <Field
          id="reach-dst"
          label="destination"
          value={dst}
          onValue={setDst}
          invalid={error?.field === 'dst'}
        />
        <Choice
          id="reach-proto"
          label="protocol"
          value={proto}
          options={['', ...PROTOS]}
          onValue={setProto}
        />
        <Field
          id="reach-port"
          label="port"
          value={port}
          onValue={setPort}
          invalid={error?.field === 'port'}
        />
        <button type="submit">Ask</button>
      </form>
      <ErrorBox error={error} />
      {rows && <ReachTable rows={rows} dst={dst} />}
    </section>
  );
}

/**
 * Tags as one line.
 *
 * @example tagText({ app: 'web', tier: 2 }) // 'app=web tier=2'
 */
export function tagText(tags: Record<string, unknown>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function CheckPage() {
  return (
    <section data-page="check" data-ready="true" aria-labelledby="h-checkpage">
      <h1 id="h-checkpage">Check</h1>
      <CheckForm />
      <ReachForm />
    </section>
  );
}
