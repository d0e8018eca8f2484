/**
 * Compares a CheckResult with a row of the verdict table; shared by the reference
 * and engine runs so both are held to exactly the same expectations.
 */
import type { CheckResult, SideResult } from '../../src/engine/index.js';
import type { SideExpectation, VerdictCase } from './verdict-cases.js';

/**
 * The differences between the result and the row (empty when it agrees).
 *
 * @example expect(verdictMismatches(oracleCheck(c.model, c.flow), c)).toEqual([]);
 */
export function verdictMismatches(actual: CheckResult, c: VerdictCase): string[] {
  const out: string[] = [];
  if (actual.verdict !== c.verdict)
    out.push(`verdict: expected ${c.verdict}, got ${actual.verdict}`);
  out.push(...sideMismatches('egress', actual.egress, c.egress));
  out.push(...sideMismatches('ingress', actual.ingress, c.ingress));
  return out;
}

function sideMismatches(name: string, side: SideResult, want: SideExpectation): string[] {
  const out: string[] = [];
  const say = (what: string): number => out.push(`${name}: ${what}`);
  if (side.verdict !== want.verdict) say(`verdict: expected ${want.verdict}, got ${side.verdict}`);
  if ((side.logged ?? false) !== (want.logged ?? false))
    say(`logged: expected ${want.logged ?? false}, got ${side.logged ?? false}`);
  const decider = side.rule ? `${side.rule.policy}/${side.rule.rule}` : undefined;
  switch (want.by) {
    case 'outside':
      if (side.evaluated !== false) say('expected not evaluated (outside every record)');
      if (decider) say(`expected no deciding rule, got ${decider}`);
      break;
    case 'self':
      if (decider) say(`expected no deciding rule (same record), got ${decider}`);
      break;
    case 'default':
      if (decider) say(`expected the default, got rule ${decider}`);
      if (side.default?.verdict !== want.verdict)
        say(`default: expected ${want.verdict}, got ${side.default?.verdict}`);
      if (side.evaluated !== true) say('expected evaluated');
      break;
    default:
      if (decider !== want.by)
        say(`deciding rule: expected ${want.by}, got ${decider ?? 'the default'}`);
      if (side.policy !== want.by.split('/')[0])
        say(`policy: expected ${want.by.split('/')[0]}, got ${side.policy}`);
      if (side.evaluated !== true) say('expected evaluated');
  }
  const losers = side.overridden.map((r) => `${r.policy}/${r.rule}`).sort();
  const wantLosers = [...(want.overridden ?? [])].sort();
  if (JSON.stringify(losers) !== JSON.stringify(wantLosers)) {
    say(`overridden: expected [${wantLosers.join(', ')}], got [${losers.join(', ')}]`);
  }
  if (side.audit?.wouldBe !== want.auditWouldBe) {
    say(
      `audit.wouldBe: expected ${want.auditWouldBe ?? 'none'}, got ${side.audit?.wouldBe ?? 'none'}`,
    );
  }
  return out;
}
