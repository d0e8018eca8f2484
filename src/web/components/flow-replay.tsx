/**
 * The preview against real traffic (`POST /v1/impact` with `againstFlows`, the CLI's
 * `--against-flows`): the observed connections of the window replayed through the
 * change, and those whose verdict it would flip.
 */
import type { FlowReplay } from '../../client/api-types.js';

export const REPLAY_WINDOW = '1h';

export function FlowReplayTable({ replay }: { replay: FlowReplay }) {
  if (replay.flows === 0)
    return (
      <p class="muted" data-testid="against-flows">
        Against observed flows: none observed in the last {REPLAY_WINDOW}.
      </p>
    );
  const head = `Against observed flows (last ${REPLAY_WINDOW}): ${replay.flows} connection(s), ${replay.distinct} distinct`;
  if (replay.changed.length === 0)
    return <p data-testid="against-flows">{head}; none would change verdict.</p>;
  return (
    <table data-testid="against-flows">
      <caption>
        {head}; {replay.changedFlows} would change verdict
      </caption>
      <thead>
        <tr>
          <th scope="col">from</th>
          <th scope="col">to</th>
          <th scope="col">protocol/port</th>
          <th scope="col">verdict</th>
          <th scope="col">connections</th>
          <th scope="col">decided by</th>
        </tr>
      </thead>
      <tbody>
        {replay.changed.slice(0, 50).map((c) => (
          <tr key={`${c.src}>${c.dst}/${c.protocol}/${c.port}`}>
            <td>{c.src}</td>
            <td>{c.dst}</td>
            <td>
              {c.protocol}/{c.port}
            </td>
            <td class={`verdict ${c.to}`}>
              {c.from} → {c.to}
            </td>
            <td>{c.count}</td>
            <td>{c.decidedBy}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
