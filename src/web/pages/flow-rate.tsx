/**
 * Allowed and denied flows per minute, from the manager's flow summary
 * (`GET /v1/flows/summary`, the flows pipeline). Says so when the manager has none.
 */
import { useSession } from '../context.js';
import { useApi } from '../use-api.js';

export interface RatePoint {
  minute: string;
  allowed: number;
  denied: number;
}

/** Bars of one SVG, scaled to the busiest minute. */
function Bars({ points }: { points: RatePoint[] }) {
  const max = Math.max(1, ...points.map((p) => p.allowed + p.denied));
  const w = 12;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${points.length * w} 100`}
      role="img"
      aria-label="allowed and denied flows per minute"
    >
      {points.map((p, i) => {
        const ha = (p.allowed / max) * 100;
        const hd = (p.denied / max) * 100;
        return (
          <g key={p.minute}>
            <title>{`${p.minute}: ${p.allowed} allowed, ${p.denied} denied`}</title>
            <rect class="allow" x={i * w} y={100 - ha} width={w - 2} height={ha} />
            <rect class="deny" x={i * w} y={100 - ha - hd} width={w - 2} height={hd} />
          </g>
        );
      })}
    </svg>
  );
}

export function FlowRateChart() {
  const { client } = useSession();
  const summary = useApi(
    () => client.request<{ perMinute?: RatePoint[] }>('GET', '/v1/flows/summary'),
    [],
    5000,
  );
  const points = summary.data?.perMinute ?? [];
  return (
    <section aria-labelledby="h-rate">
      <h2 id="h-rate">Flows per minute</h2>
      {summary.error ? (
        <p class="muted">
          No flow data:{' '}
          {summary.error.code === 'VNP_ERR_ROUTE_NOT_FOUND'
            ? 'this manager collects no flows'
            : summary.error.message}
        </p>
      ) : points.length === 0 ? (
        <p class="muted">No flows observed yet.</p>
      ) : (
        <Bars points={points} />
      )}
    </section>
  );
}
