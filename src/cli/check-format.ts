/**
 * `vnp check` for people: the verdict, then each side's deciding policy and rule
 * (or the default taken and why), the rules that matched but lost, and audit-mode
 * rules that would have decided; then the route steering the flow, if one matches.
 */
import type { CheckResult, EndpointInfo, RuleRef, SideResult } from '../client/api-types.js';
import type { SteeringResult } from '../model/check.js';

function ruleText(r: RuleRef): string {
  const audit = r.mode === 'audit' ? ', audit' : '';
  return `policy ${r.policy} ${r.rule} (priority ${r.priority}, ${r.action}${audit})`;
}

function endpointText(e: EndpointInfo | undefined): string {
  if (e === undefined) return '?';
  const name = e.record ?? e.address ?? '?';
  const addr = e.record !== undefined && e.address !== undefined ? ` ${e.address}` : '';
  const parts = e.partitions?.length ? `partitions ${e.partitions.join(',')}` : 'no partition';
  return `${name}${addr} (identity ${e.identity}, ${parts})`;
}

function sideLines(name: string, result: SideResult | undefined): string[] {
  if (result === undefined) return [`${name}: (not reported)`];
  if (result.evaluated === false)
    return [`${name}: not evaluated (an address outside every record)`];
  const logged = result.logged ? ', logged' : '';
  const head = result.rule
    ? `${name}: ${result.verdict}${logged} by ${ruleText(result.rule)}`
    : result.default
      ? `${name}: ${result.verdict} by default — ${result.default.reason}`
      : `${name}: ${result.verdict}${result.policy ? ` by policy ${result.policy}` : ''}`;
  const lines = [head];
  for (const r of result.overridden ?? []) lines.push(`    overridden: ${ruleText(r)}`);
  if (result.audit && result.audit.rules.length > 0) {
    lines.push(
      `    audit mode would ${result.audit.wouldBe}: ${result.audit.rules.map(ruleText).join('; ')}`,
    );
  }
  return lines;
}

function routeLines(r: SteeringResult): string[] {
  const where = `policy ${r.policy} ${r.route} (priority ${r.priority})`;
  const head = r.active
    ? `route: via ${r.via} (steer class ${r.steer}) by ${where}`
    : `route: via ${r.via} by ${where}, ${r.reason ?? 'inert'}: not steered`;
  return [
    head,
    ...r.overridden.map((o) => `    overridden: policy ${o.policy} ${o.route} via ${o.via}`),
  ];
}

/**
 * The explanation of a verdict as text.
 *
 * @example
 *   formatCheck(result)
 *   // 'ALLOW  web-1 → app-1 tcp/8080: both sides allow\n  src: …\n  egress: allow by policy …\n'
 */
export function formatCheck(
  r: CheckResult,
  flow: { protocol?: string; port?: number } = {},
): string {
  const what = flow.protocol
    ? ` ${flow.protocol}${flow.port !== undefined ? '/' + flow.port : ''}`
    : '';
  const src = r.src?.record ?? r.src?.address ?? '?';
  const dst = r.dst?.record ?? r.dst?.address ?? '?';
  const lines = [
    `${r.verdict.toUpperCase()}  ${src} → ${dst}${what}${r.reason ? ': ' + r.reason : ''}`,
    `  src: ${endpointText(r.src)}`,
    `  dst: ${endpointText(r.dst)}`,
    ...sideLines('egress', r.egress).map((l) => '  ' + l),
    ...sideLines('ingress', r.ingress).map((l) => '  ' + l),
    ...(r.route ? routeLines(r.route).map((l) => '  ' + l) : []),
  ];
  return lines.join('\n') + '\n';
}
