/**
 * Greedy model shrinking for differential failures: drop policies, rules, partitions,
 * records and tags one at a time while the failure persists, so the printed model
 * is small enough to read.
 */
import type { CheckRequest } from '../../src/engine/index.js';
import type { OracleModel } from './oracle/oracle-model.js';
import { sameAddress } from './oracle/oracle-net.js';

/**
 * The smallest model found (greedily) on which `stillFails` is true.
 * `stillFails` must be false, not throw, for models it cannot judge.
 *
 * @example const small = shrinkModel(model, flow, (m) => mismatches(m, flow).length > 0);
 */
export function shrinkModel(
  model: OracleModel,
  flow: CheckRequest,
  stillFails: (m: OracleModel) => boolean,
  maxRounds = 200,
): OracleModel {
  let current = model;
  for (let round = 0; round < maxRounds; round++) {
    const smaller = candidates(current, flow).find((m) => safely(stillFails, m));
    if (!smaller) return current;
    current = smaller;
  }
  return current;
}

function safely(f: (m: OracleModel) => boolean, m: OracleModel): boolean {
  try {
    return f(m);
  } catch {
    return false;
  }
}

/** Every model one step smaller than `m`, biggest cuts first. */
function candidates(m: OracleModel, flow: CheckRequest): OracleModel[] {
  const out: OracleModel[] = [];
  const with_ = (patch: Partial<OracleModel>): OracleModel => ({ ...m, ...patch });
  m.policies.forEach((_, i) =>
    out.push(with_({ policies: m.policies.filter((__, j) => j !== i) })),
  );
  m.interfaces.forEach((r, i) => {
    if (isEndpoint(r.name, r.ips, flow)) return;
    out.push(with_({ interfaces: m.interfaces.filter((__, j) => j !== i) }));
  });
  m.partitions.forEach((_, i) =>
    out.push(with_({ partitions: m.partitions.filter((__, j) => j !== i) })),
  );
  m.policies.forEach((p, i) => {
    for (const dir of ['ingress', 'egress'] as const) {
      p[dir].forEach((_, k) => {
        const policy = { ...p, [dir]: p[dir].filter((__, j) => j !== k) };
        out.push(with_({ policies: m.policies.map((q, j) => (j === i ? policy : q)) }));
      });
    }
  });
  m.interfaces.forEach((r, i) => {
    for (const key of Object.keys(r.tags)) {
      const tags = { ...r.tags };
      delete tags[key];
      out.push(with_({ interfaces: m.interfaces.map((q, j) => (j === i ? { ...r, tags } : q)) }));
    }
    if (r.ips.length > 1) {
      r.ips.forEach((ip, k) => {
        if (ip === flow.src || ip === flow.dst || k === 0) return;
        const ips = r.ips.filter((__, j) => j !== k);
        out.push(with_({ interfaces: m.interfaces.map((q, j) => (j === i ? { ...r, ips } : q)) }));
      });
    }
  });
  return out;
}

function isEndpoint(name: string, ips: string[], flow: CheckRequest): boolean {
  return [flow.src, flow.dst].some((e) => e === name || ips.some((ip) => sameAddress(ip, e)));
}
