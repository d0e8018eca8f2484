/**
 * Casbin judging the same model, with the idiomatic RBAC-style model where tags are
 * roles: every record is linked (`g`) to one group per tag (`app=a7`, `env=prod`),
 * and every rule is one policy line `p, <dir>, <applies group>, <peer group>,
 * <proto/port>, <allow|deny>`. The effect is deny-override, which equals §2's
 * "deny beats allow" when no allow outranks an overlapping deny (the generator
 * guarantees it; priorities are therefore dropped).
 *
 * As with Cedar, one enforce call answers one side: egress is `(egress, S, D, act)`,
 * ingress is `(ingress, D, S, act)` (subject = the protected record, object = the
 * peer); the ingress call is skipped when egress already denies.
 *
 * Scope: selectors of the form `key == "value"` and single `proto/port` specs (what
 * the generator writes); anything else throws. Fairness: the enforcer, its role links
 * and every request tuple are built once; timing uses `enforceSync` (no promise).
 */
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from 'casbin';
import type { Document, Policy, Rule, Tags } from '../../src/model/types.js';
import { parseSelector } from '../../src/selector/parse.js';
import type { BenchFlow } from '../generate.js';
import type { FlowJudge } from './judge.js';
import { parsePortSpec } from './ports.js';
import { assertZeroTrust } from './zero-trust.js';

/** The Casbin model: direction, subject group, object group, action; deny-override. */
export const CASBIN_MODEL = `
[request_definition]
r = dir, sub, obj, act

[policy_definition]
p = dir, sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.dir == p.dir && r.act == p.act && g(r.sub, p.sub) && g(r.obj, p.obj)
`;

/** `app == "a7"` → `app=a7`; anything else is outside this baseline's scope. */
function groupOf(selector: string): string {
  const s = parseSelector(selector);
  if (s.type !== 'cmp' || s.op !== '==' || s.path.length !== 1 || typeof s.value !== 'string') {
    throw new Error(`casbin: only key == "value" selectors are supported, got ${selector}`);
  }
  return `${s.path[0]}=${s.value}`;
}

function actOf(ports: string[] | undefined): string[] {
  if (ports === undefined)
    throw new Error('casbin: rules without ports are not supported by this baseline');
  return ports.map((spec) => {
    const r = parsePortSpec(spec);
    if (r.proto === 'icmp' || r.lo !== r.hi)
      throw new Error(`casbin: only proto/port specs are supported, got ${spec}`);
    return `${r.proto}/${r.lo}`;
  });
}

function linesOfRule(p: Policy, r: Rule, dir: 'ingress' | 'egress'): string[] {
  const peer = dir === 'ingress' ? r.from : r.to;
  if (peer?.selector === undefined) throw new Error('casbin: only selector peers are supported');
  const eft = r.action === 'deny' ? 'deny' : 'allow';
  const sub = groupOf(p.appliesTo);
  const obj = groupOf(peer.selector);
  return actOf(r.ports).map((act) => `p, ${dir}, ${sub}, ${obj}, ${act}, ${eft}`);
}

function groupLines(name: string, tags: Tags): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      out.push(`g, ${name}, ${k}=${v}`);
  }
  return out;
}

/**
 * The Casbin policy text (p and g lines) of a model.
 *
 * @example
 *   casbinPolicyText(docs) // 'p, ingress, app=a1, app=a5, tcp/443, allow\n...\ng, r0, app=a0\n...'
 */
export function casbinPolicyText(docs: readonly Document[]): string {
  const lines: string[] = [];
  for (const d of docs) {
    if (d.kind === 'Policy' && d.mode !== 'audit') {
      for (const r of d.ingress) lines.push(...linesOfRule(d, r, 'ingress'));
      for (const r of d.egress) lines.push(...linesOfRule(d, r, 'egress'));
    }
  }
  for (const d of docs) if (d.kind === 'Interface') lines.push(...groupLines(d.name, d.tags));
  return lines.join('\n');
}

/**
 * Casbin behind the judge interface. Build with `CasbinJudge.create` (the enforcer loads asynchronously).
 *
 * @example
 *   const c = await CasbinJudge.create(model.documents);
 *   c.allows(model.flows[0]!);
 */
export class CasbinJudge implements FlowJudge {
  readonly name = 'Casbin';
  private readonly requests = new Map<BenchFlow, [string[], string[]]>();

  private constructor(
    private readonly enforcer: Enforcer,
    readonly policyLines: number,
  ) {}

  static async create(docs: readonly Document[]): Promise<CasbinJudge> {
    assertZeroTrust(docs, 'casbin');
    const text = casbinPolicyText(docs);
    const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(text));
    const pLines = text.split('\n').filter((l) => l.startsWith('p,')).length;
    return new CasbinJudge(enforcer, pLines);
  }

  allows(flow: BenchFlow): boolean {
    if (flow.src === flow.dst) return true;
    const [egress, ingress] = this.requestsOf(flow);
    return this.enforcer.enforceSync(...egress) && this.enforcer.enforceSync(...ingress);
  }

  private requestsOf(flow: BenchFlow): [string[], string[]] {
    const hit = this.requests.get(flow);
    if (hit) return hit;
    const act = `${flow.protocol}/${flow.port}`;
    const pair: [string[], string[]] = [
      ['egress', flow.src, flow.dst, act],
      ['ingress', flow.dst, flow.src, act],
    ];
    this.requests.set(flow, pair);
    return pair;
  }
}
