/**
 * The seed's `get_policy_for_traffic`, written the way a first version would be:
 * per flow, look up both records' tags, loop over every policy, evaluate its
 * `appliesTo` (selectors compiled once — the one concession), collect the rules of
 * both directions, sort them by priority (deny before log before allow at equal
 * priority), take the first rule that matches the peer and port per side, else the
 * §2 default (partition membership evaluated per flow). Audit-mode policies never
 * decide. CIDR peers are out of scope (the generator writes none): they throw.
 */
import type {
  Action,
  Document,
  Interface,
  Partition,
  Policy,
  Rule,
} from '../../src/model/types.js';
import { compileSelector, type TagPredicate } from '../../src/selector/compile.js';
import { parseSelector } from '../../src/selector/parse.js';
import type { BenchFlow } from '../generate.js';
import type { FlowJudge } from './judge.js';
import { parsePortSpec, portsMatch, type PortRange } from './ports.js';

interface SeedRule {
  priority: number;
  action: Action;
  /** Peer test on the peer record (undefined: any peer). */
  peer: ((r: Interface) => boolean) | undefined;
  ports: PortRange[] | undefined;
}

interface SeedPolicy {
  priority: number;
  appliesTo: TagPredicate;
  ingress: SeedRule[];
  egress: SeedRule[];
}

interface SeedPartition {
  name: string;
  intra: 'allow' | 'deny';
  selects: TagPredicate;
}

const STRICTNESS: Record<Action, number> = { deny: 2, log: 1, allow: 0 };

function compile(text: string): TagPredicate {
  return compileSelector(parseSelector(text));
}

/**
 * The seed's evaluator over a set of documents.
 *
 * @example
 *   const seed = new SeedJudge(generateModel({ policies: 10, records: 100 }).documents);
 *   seed.allows({ src: 'r1', dst: 'r2', protocol: 'tcp', port: 443 });
 */
export class SeedJudge implements FlowJudge {
  readonly name = 'seed get_policy_for_traffic';
  private readonly records = new Map<string, Interface>();
  private readonly policies: SeedPolicy[] = [];
  private readonly partitions: SeedPartition[] = [];
  private unpartitioned: 'allow' | 'deny' = 'allow';
  private crossPartition: 'allow' | 'deny' = 'deny';

  constructor(docs: readonly Document[]) {
    for (const d of docs) {
      if (d.kind === 'Interface') this.records.set(d.name, d);
      if (d.kind === 'Settings') {
        this.unpartitioned = d.defaults.unpartitioned;
        this.crossPartition = d.defaults.crossPartition;
      }
    }
    const partitionDocs = docs.filter(
      (d): d is Partition & { kind: 'Partition' } => d.kind === 'Partition',
    );
    for (const p of partitionDocs) {
      this.partitions.push({ name: p.name, intra: p.intra, selects: compile(p.selector) });
    }
    for (const d of docs)
      if (d.kind === 'Policy' && d.mode !== 'audit') this.policies.push(this.policyOf(d));
  }

  allows(flow: BenchFlow): boolean {
    if (flow.src === flow.dst) return true;
    const s = this.records.get(flow.src);
    const d = this.records.get(flow.dst);
    if (!s || !d) throw new Error(`seed: unknown record in ${flow.src} -> ${flow.dst}`);
    const egress: SeedRule[] = [];
    const ingress: SeedRule[] = [];
    for (const p of this.policies) {
      if (p.appliesTo(s.tags)) egress.push(...p.egress);
      if (p.appliesTo(d.tags)) ingress.push(...p.ingress);
    }
    const byPrecedence = (a: SeedRule, b: SeedRule): number =>
      b.priority - a.priority || STRICTNESS[b.action] - STRICTNESS[a.action];
    egress.sort(byPrecedence);
    ingress.sort(byPrecedence);
    const fallback = this.defaultOf(s, d);
    return (
      this.side(egress, d, flow, fallback) === 'allow' &&
      this.side(ingress, s, flow, fallback) === 'allow'
    );
  }

  private side(
    rules: SeedRule[],
    peer: Interface,
    flow: BenchFlow,
    fallback: 'allow' | 'deny',
  ): 'allow' | 'deny' {
    for (const r of rules) {
      if (r.peer !== undefined && !r.peer(peer)) continue;
      if (!portsMatch(r.ports, flow.protocol, flow.port)) continue;
      return r.action === 'deny' ? 'deny' : 'allow';
    }
    return fallback;
  }

  /** §2.2: shared partition → its intra (deny if any says deny); none at all → unpartitioned; else cross. */
  private defaultOf(s: Interface, d: Interface): 'allow' | 'deny' {
    const ofS = this.partitions.filter((p) => p.selects(s.tags));
    const ofD = this.partitions.filter((p) => p.selects(d.tags));
    const shared = ofS.filter((p) => ofD.includes(p));
    if (shared.length > 0) return shared.some((p) => p.intra === 'deny') ? 'deny' : 'allow';
    if (ofS.length === 0 && ofD.length === 0) return this.unpartitioned;
    return this.crossPartition;
  }

  private policyOf(p: Policy): SeedPolicy {
    const rule = (r: Rule, peer: Rule['from']): SeedRule => ({
      priority: p.priority,
      action: r.action,
      peer: this.peerOf(peer),
      ports: r.ports?.map(parsePortSpec),
    });
    return {
      priority: p.priority,
      appliesTo: compile(p.appliesTo),
      ingress: p.ingress.map((r) => rule(r, r.from)),
      egress: p.egress.map((r) => rule(r, r.to)),
    };
  }

  private peerOf(peer: Rule['from']): SeedRule['peer'] {
    if (peer === undefined) return undefined;
    if (peer.cidr !== undefined)
      throw new Error('seed: cidr peers are not supported by this baseline');
    if (peer.selector !== undefined) {
      const sel = compile(peer.selector);
      return (r) => sel(r.tags);
    }
    const name = peer.partition;
    return (r) => this.partitions.some((p) => p.name === name && p.selects(r.tags));
  }
}
