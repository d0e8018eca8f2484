/**
 * What the differential test holds the compiled engine to: the flow verdict and, per
 * side, the deciding policy and rule (or the default's verdict), the `logged` flag,
 * whether the side was evaluated, the overridden rules and the audit rules with
 * their would-be verdict (as sets: order is free), and the endpoints (record,
 * canonical address, partitions; identity only for outside). Reasons are free.
 */
import type { CheckResult, EndpointInfo, SideResult } from '../../src/engine/index.js';

/**
 * Differences between the reference result and the engine's (empty when they agree).
 *
 * @example expect(compareResults(oracleCheck(m, req), engine.check(req))).toEqual([]);
 */
export function compareResults(reference: CheckResult, engine: CheckResult): string[] {
  const out: string[] = [];
  if (reference.verdict !== engine.verdict)
    out.push(`verdict: reference ${reference.verdict}, engine ${engine.verdict}`);
  out.push(...compareEndpoints('src', reference.src, engine.src));
  out.push(...compareEndpoints('dst', reference.dst, engine.dst));
  const self = reference.reason === 'same record';
  out.push(...compareSides('egress', reference.egress, engine.egress, self));
  out.push(...compareSides('ingress', reference.ingress, engine.ingress, self));
  return out;
}

function compareSides(name: string, ref: SideResult, eng: SideResult, self: boolean): string[] {
  const out: string[] = [];
  const say = (what: string): number => out.push(`${name}: ${what}`);
  if (ref.verdict !== eng.verdict) say(`verdict: reference ${ref.verdict}, engine ${eng.verdict}`);
  if ((ref.logged ?? false) !== (eng.logged ?? false))
    say(`logged: reference ${ref.logged ?? false}, engine ${eng.logged ?? false}`);
  if (self) return out;
  if (ref.evaluated !== eng.evaluated)
    say(`evaluated: reference ${ref.evaluated}, engine ${eng.evaluated}`);
  if (!ref.evaluated) return out;
  const refRule = ref.rule ? `${ref.rule.policy}/${ref.rule.rule}` : 'default';
  const engRule = eng.rule ? `${eng.rule.policy}/${eng.rule.rule}` : 'default';
  if (refRule !== engRule) say(`decided by: reference ${refRule}, engine ${engRule}`);
  if (!ref.rule && ref.default?.verdict !== eng.default?.verdict) {
    say(`default: reference ${ref.default?.verdict}, engine ${eng.default?.verdict}`);
  }
  // §2.5: the rules that matched but lost, and what audit rules would have done.
  const refLosers = ruleSet(ref.overridden);
  const engLosers = ruleSet(eng.overridden);
  if (refLosers !== engLosers) say(`overridden: reference [${refLosers}], engine [${engLosers}]`);
  const refAudit = `${ref.audit?.wouldBe ?? 'none'} [${ruleSet(ref.audit?.rules ?? [])}]`;
  const engAudit = `${eng.audit?.wouldBe ?? 'none'} [${ruleSet(eng.audit?.rules ?? [])}]`;
  if (refAudit !== engAudit) say(`audit: reference ${refAudit}, engine ${engAudit}`);
  return out;
}

/** Rules as a sorted, comparable list (order inside the lists is not part of §2.5). */
function ruleSet(rules: readonly { policy: string; rule: string }[]): string {
  return rules
    .map((r) => `${r.policy}/${r.rule}`)
    .sort()
    .join(', ');
}

/** Record, canonical address and partitions; identities only for outside (world = 1). */
function compareEndpoints(name: string, ref: EndpointInfo, eng: EndpointInfo): string[] {
  const show = (e: EndpointInfo): string =>
    `${e.record ?? '(outside)'} ${e.address ?? ''} [${[...e.partitions].sort().join(', ')}]${e.record ? '' : ` identity ${e.identity}`}`;
  return show(ref) === show(eng) ? [] : [`${name}: reference ${show(ref)}, engine ${show(eng)}`];
}
