/**
 * Cedar (`@cedar-policy/cedar-wasm`, the nodejs build) judging the same model.
 *
 * Translation (faithful under the zero-trust guard and for equality selectors, which
 * is what the generator writes):
 * - a record is an entity `Iface::"<name>"` whose attributes are its tags;
 * - a Cedar request asks one question, §2 asks two: the egress side (at the source's
 *   PEP) is `principal=S, action=Action::"egress", resource=D`, the ingress side is
 *   the same triple with `Action::"ingress"`. A flow is allowed iff both are, and the
 *   ingress call is skipped when egress already denies (vnp short-circuits too);
 * - each rule becomes one `permit` (allow, log) or `forbid` (deny) whose `when`
 *   holds the policy's `appliesTo` on the protected side, the peer on the other side
 *   and the ports on `context` (`{proto, port}`). Priorities are dropped: Cedar's
 *   forbid-overrides-permit equals §2 when no allow outranks an overlapping deny.
 *
 * Fairness: the policy set is pre-parsed once (`preparsePolicySet`) and every call
 * object (entities of both records, context) is built once per flow and reused, so
 * the timing measures Cedar's `statefulIsAuthorized` itself.
 *
 * Importing this module turns off V8's JS→Wasm call inlining (v8-wasm-workaround.ts):
 * without it Node 20 aborts after a few thousand Cedar calls.
 */
import './v8-wasm-workaround.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Document, Partition, Policy, Rule, Tags } from '../../src/model/types.js';
import type { Path, Literal, Selector } from '../../src/selector/ast.js';
import { parseSelector } from '../../src/selector/parse.js';
import type { BenchFlow } from '../generate.js';
import type { FlowJudge } from './judge.js';
import { parsePortSpec } from './ports.js';
import { assertZeroTrust } from './zero-trust.js';

type Var = 'principal' | 'resource';
type Call = cedar.StatefulAuthorizationCall;

const CEDAR_IDENT = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
let nextSetId = 0;

function access(base: string, seg: string): string {
  return CEDAR_IDENT.test(seg) ? `${base}.${seg}` : `${base}[${JSON.stringify(seg)}]`;
}

function hasSeg(base: string, seg: string): string {
  return CEDAR_IDENT.test(seg) ? `${base} has ${seg}` : `${base} has ${JSON.stringify(seg)}`;
}

/** `v has a && v.a has b && ...`, and the access expression of the path. */
function pathOf(v: Var, path: Path): { guard: string; expr: string } {
  const guards: string[] = [];
  let expr: string = v;
  for (const seg of path) {
    guards.push(hasSeg(expr, seg));
    expr = access(expr, seg);
  }
  return { guard: guards.join(' && '), expr };
}

function lit(l: Literal): string {
  return typeof l === 'string' ? JSON.stringify(l) : String(l);
}

/**
 * A selector as a Cedar condition on `v`.
 *
 * @example
 *   selectorToCedar(parseSelector('app == "web"'), 'principal')
 *   // '(principal has app && principal.app == "web")'
 */
export function selectorToCedar(s: Selector, v: Var): string {
  switch (s.type) {
    case 'all':
      return 'true';
    case 'has':
      return `(${pathOf(v, s.path).guard})`;
    case 'cmp': {
      const p = pathOf(v, s.path);
      return `(${p.guard} && ${p.expr} ${s.op} ${lit(s.value)})`;
    }
    case 'in': {
      const p = pathOf(v, s.path);
      const set = `[${s.values.map(lit).join(', ')}].contains(${p.expr})`;
      return `(${p.guard} && ${s.negated ? '!' : ''}${set})`;
    }
    case 'not':
      return `!${selectorToCedar(s.expr, v)}`;
    case 'and':
      return `(${s.exprs.map((e) => selectorToCedar(e, v)).join(' && ')})`;
    case 'or':
      return `(${s.exprs.map((e) => selectorToCedar(e, v)).join(' || ')})`;
  }
}

function portsToCedar(ports: string[] | undefined): string {
  if (ports === undefined) return 'true';
  const alts = ports.map((spec) => {
    const r = parsePortSpec(spec);
    const proto = `context.proto == ${JSON.stringify(r.proto)}`;
    if (r.proto === 'icmp' || (r.lo === 0 && r.hi === 65535)) return proto;
    if (r.lo === r.hi) return `(${proto} && context.port == ${r.lo})`;
    return `(${proto} && context.port >= ${r.lo} && context.port <= ${r.hi})`;
  });
  return `(${alts.join(' || ')})`;
}

/**
 * The Cedar policies of a model, by id (`<policy>.ingress[<i>]`). A record of
 * policies pre-parses about twice as fast as one text with cedar-wasm 4.
 *
 * @example
 *   policiesToCedar(docs)['p1.ingress[0]'] // 'permit (principal, action == Action::"ingress", resource) when { ... };'
 */
export function policiesToCedar(docs: readonly Document[]): Record<string, string> {
  const partitions = new Map(
    docs
      .filter((d): d is Partition & { kind: 'Partition' } => d.kind === 'Partition')
      .map((p) => [p.name, p]),
  );
  const peerOf = (peer: Rule['from'], v: Var): string => {
    if (peer === undefined) return 'true';
    if (peer.cidr !== undefined)
      throw new Error('cedar: cidr peers are not supported by this baseline');
    const text = peer.selector ?? partitions.get(peer.partition ?? '')?.selector;
    if (text === undefined) throw new Error(`cedar: unknown partition ${peer.partition}`);
    return selectorToCedar(parseSelector(text), v);
  };
  const out: Record<string, string> = {};
  const policyText = (p: Policy, r: Rule, dir: 'ingress' | 'egress'): string => {
    const self: Var = dir === 'ingress' ? 'resource' : 'principal';
    const other: Var = dir === 'ingress' ? 'principal' : 'resource';
    const effect = r.action === 'deny' ? 'forbid' : 'permit';
    const applies = selectorToCedar(parseSelector(p.appliesTo), self);
    const peer = peerOf(dir === 'ingress' ? r.from : r.to, other);
    return `${effect} (principal, action == Action::"${dir}", resource) when { ${applies} && ${peer} && ${portsToCedar(r.ports)} };`;
  };
  for (const d of docs) {
    if (d.kind !== 'Policy' || d.mode === 'audit') continue;
    d.ingress.forEach((r, i) => (out[`${d.name}.ingress[${i}]`] = policyText(d, r, 'ingress')));
    d.egress.forEach((r, i) => (out[`${d.name}.egress[${i}]`] = policyText(d, r, 'egress')));
  }
  return out;
}

/** Kept out of the hot path: see the note on `CedarJudge.allows`. */
function cedarFailure(errors: readonly cedar.DetailedError[]): Error {
  return new Error(`cedar: ${errors.map((e) => e.message).join('; ')}`);
}

function entityOf(name: string, tags: Tags): cedar.EntityJson {
  return {
    uid: { type: 'Iface', id: name },
    attrs: tags as Record<string, cedar.CedarValueJson>,
    parents: [],
  };
}

/**
 * Cedar behind the judge interface.
 *
 * @example
 *   const c = new CedarJudge(model.documents);
 *   c.allows(model.flows[0]!);
 */
export class CedarJudge implements FlowJudge {
  readonly name = 'Cedar (wasm)';
  readonly policyCount: number;
  private readonly setId: string;
  private readonly entities = new Map<string, cedar.EntityJson>();
  private readonly calls = new Map<BenchFlow, [Call, Call]>();

  constructor(docs: readonly Document[]) {
    assertZeroTrust(docs, 'cedar');
    const policies = policiesToCedar(docs);
    this.policyCount = Object.keys(policies).length;
    this.setId = `vnp-bench-${nextSetId++}`;
    const parsed = cedar.preparsePolicySet(this.setId, { staticPolicies: policies });
    if (parsed.type !== 'success') {
      throw new Error(
        `cedar: policy set does not parse: ${parsed.errors.map((e) => e.message).join('; ')}`,
      );
    }
    for (const d of docs)
      if (d.kind === 'Interface') this.entities.set(d.name, entityOf(d.name, d.tags));
  }

  allows(flow: BenchFlow): boolean {
    if (flow.src === flow.dst) return true;
    const pair = this.callsOf(flow);
    return this.decide(pair[0]) && this.decide(pair[1]);
  }

  /** Policy-evaluation errors Cedar reported for this flow (empty when the translation is clean). */
  errorsOf(flow: BenchFlow): string[] {
    return this.callsOf(flow).flatMap((call) => {
      const a = cedar.statefulIsAuthorized(call);
      if (a.type !== 'success') return a.errors.map((e) => e.message);
      return a.response.diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
    });
  }

  private decide(call: Call): boolean {
    const a = cedar.statefulIsAuthorized(call);
    if (a.type !== 'success') throw cedarFailure(a.errors);
    return a.response.decision === 'allow';
  }

  private callsOf(flow: BenchFlow): [Call, Call] {
    const hit = this.calls.get(flow);
    if (hit) return hit;
    const s = this.entities.get(flow.src);
    const d = this.entities.get(flow.dst);
    if (!s || !d) throw new Error(`cedar: unknown record in ${flow.src} -> ${flow.dst}`);
    const call = (dir: string): Call => ({
      principal: s.uid,
      action: { type: 'Action', id: dir },
      resource: d.uid,
      context: { proto: flow.protocol, port: flow.port },
      preparsedPolicySetId: this.setId,
      entities: [s, d],
    });
    const pair: [Call, Call] = [call('egress'), call('ingress')];
    this.calls.set(flow, pair);
    return pair;
  }
}
