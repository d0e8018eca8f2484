/**
 * Allowed and denied flows per minute over the last 10 minutes, from the manager's
 * per-minute flow aggregate (`GET /v1/flows/summary` for each minute), refreshed every 30 s.
 */
import type { FlowSummary } from '../../client/api-types.js';
import { useModelVersion, useSession } from '../context.js';
import { useApi } from '../use-api.js';

export interface RatePoint {
  minute: string;
  allowed: number;
  denied: number;
}

const MINUTES = 10;

/** Bars of one SVG, scaled to the busiest minute. */
function Bars({ points }: { points: RatePoint[] }) {
  const max = Math.max(1, ...points.map((p) => p.allowed + p.denied));
  const w = 12;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${points.length * w} 100`}
      preserveAspectRatio="none"
      role="img"
      aria-label="allowed (green) and denied (red) flows per minute"
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

/** Connections per verdict in one summary. */
export function tally(s: FlowSummary): { allowed: number; denied: number } {
  let allowed = 0;
  let denied = 0;
  for (const r of s.items)
    if (r.verdict === 'allow') allowed += r.count;
    else denied += r.count;
  return { allowed, denied };
}

export function FlowRateChart() {
  const { client, model } = useSession();
  useModelVersion();
  const rate = useApi(
    async () => {
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      const minutes = Array.from({ length: MINUTES }, (_, i) => now - (MINUTES - 1 - i) * 60_000);
      const sums = await Promise.all(
        minutes.map((m) =>
          client.flowSummary({
            since: new Date(m).toISOString(),
            until: new Date(m + 60_000).toISOString(),
          }),
        ),
      );
      return minutes.map((m, i) => ({
        minute: new Date(m).toISOString().slice(11, 16),
        ...tally(sums[i]!),
      }));
    },
    [],
    30_000,
    // Ten requests: after the model's pages, which they would otherwise queue ahead of.
    model.complete,
  );
  const points = rate.data ?? [];
  const total = points.reduce((n, p) => n + p.allowed + p.denied, 0);
  return (
    <section aria-labelledby="h-rate">
      <h2 id="h-rate">Flows per minute</h2>
      {rate.error ? (
        <p class="muted">No flow data: {rate.error.message}</p>
      ) : total === 0 ? (
        <p class="muted">No flows in the last {MINUTES} minutes.</p>
      ) : (
        <>
          <Bars points={points} />
          <p class="muted">
            {points.at(-1)?.allowed ?? 0} allowed, {points.at(-1)?.denied ?? 0} denied this minute
          </p>
        </>
      )}
    </section>
  );
}
