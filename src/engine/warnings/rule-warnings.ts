/**
 * Rules that can never decide, over all the documents (design.md §2.1; `apply` reports
 * them): a rule R of policy P is `shadowed` when earlier enforce rules decide every flow
 * R can match, for every record P can apply to. Only rules of policies whose `appliesTo`
 * provably holds wherever P's does (the same canonical selector, `all()`, or a
 * structural implication: src/selector/implies.ts) can shadow R, because a record that
 * P selects and such a policy Q did not would be decided by R. The per-rule check is
 * src/engine/warnings/shadowing.ts, the same one `getPolicyForTags` marks `shadowed` with.
 *
 * Audit-mode rules never decide (§2.4), so they are neither checked nor shadowing.
 * With `strict`, rules that match nothing in the documents as they are are reported `unused`.
 */
import type { RuleRef, RuleWarning } from '../../model/check.js';
import type { Direction } from '../../model/host-state.js';
import {
  implicationTokens,
  parseSelectorCached,
  selectorImplies,
  type Selector,
} from '../../selector/index.js';
import {
  comparePrecedence,
  type CompiledPolicy,
  type CompiledRule,
} from '../compile/compiled-rule.js';
import { peerImplication, shadowingRules } from './shadowing.js';

/** What the analysis reads of the engine's state. */
export interface RuleWarningContext {
  policies: Iterable<CompiledPolicy>;
  /** A partition's selector text (undefined: no such partition). */
  partitionSelector(name: string): string | undefined;
  /** A partition's member identities. */
  partitionMembers(name: string): ReadonlySet<number> | undefined;
}

export interface RuleWarningOptions {
  /**
   * Report only warnings that involve these policies — the rule's own policy or one of
   * the rules shadowing it (an apply names the policies it wrote). All when absent.
   */
  policies?: ReadonlySet<string>;
  /** Also report `unused` rules (they match no record in the documents as they are). */
  strict?: boolean;
}

/**
 * Every rule that can never decide, in policy-name then rule order.
 *
 * @example ruleWarnings(ctx, { policies: new Set(['quarantine']) })[0]?.message
 *   // 'Policy/quarantine egress[0] (allow, priority 100) can never decide: Policy/quarantine egress[1] (deny, priority 100) decides first (equal priority: deny beats allow)'
 */
export function ruleWarnings(
  ctx: RuleWarningContext,
  opts: RuleWarningOptions = {},
): RuleWarning[] {
  const groups = new AppliesToGroups([...ctx.policies].filter((p) => p.doc.mode === 'enforce'));
  const implies = peerImplication((name) => ctx.partitionSelector(name));
  const scope = opts.policies;
  const out: RuleWarning[] = [];
  for (const p of groups.toCheck(scope)) {
    const ordered = groups.rulesFor(p.appliesTo.text);
    for (const rule of p.rules) {
      const list = ordered[rule.direction];
      const earlier = list.slice(0, list.indexOf(rule));
      const by = shadowingRules(rule, earlier, implies);
      if (by !== undefined) {
        if (!scope || scope.has(p.doc.name) || by.some((b) => scope.has(b.policy)))
          out.push(shadowedWarning(rule, by));
        continue;
      }
      if (opts.strict && (!scope || scope.has(p.doc.name))) {
        const why = unusedReason(p, rule, ctx);
        if (why) out.push(warning('unused', rule, `${label(rule)} matches nothing: ${why}`));
      }
    }
  }
  return out.sort(
    (a, b) =>
      compareText(a.rule.policy, b.rule.policy) ||
      (a.rule.direction === b.rule.direction ? 0 : a.rule.direction === 'egress' ? -1 : 1) ||
      indexOf(a.rule.rule) - indexOf(b.rule.rule),
  );
}

/**
 * Enforce policies grouped by canonical `appliesTo`, with which groups provably apply
 * wherever another does. Candidates come from the implication token index
 * (implicationTokens in src/selector/implies.ts), not from every pair of groups.
 */
class AppliesToGroups {
  private readonly byText = new Map<string, CompiledPolicy[]>();
  private readonly parsed = new Map<string, Selector>();
  /** Conclusion token → texts; texts with no conclusion tokens (they hold an all()). */
  private readonly byConclusion = new Map<string, Set<string>>();
  private readonly anyPremise = new Set<string>();
  /** Premise token → texts. */
  private readonly byPremise = new Map<string, Set<string>>();
  private readonly tokens = new Map<string, ReturnType<typeof implicationTokens>>();
  private readonly implied = new Map<string, Record<Direction, CompiledRule[]>>();

  constructor(policies: readonly CompiledPolicy[]) {
    for (const p of policies) {
      const text = p.appliesTo.text;
      const list = this.byText.get(text);
      if (list) list.push(p);
      else this.byText.set(text, [p]);
    }
    for (const text of this.byText.keys()) {
      const sel = parseSelectorCached(text);
      const tokens = tokensOf(text, sel);
      this.parsed.set(text, sel);
      this.tokens.set(text, tokens);
      if (tokens.conclusion === undefined) this.anyPremise.add(text);
      else for (const token of tokens.conclusion) addTo(this.byConclusion, token, text);
      for (const token of tokens.premise) addTo(this.byPremise, token, text);
    }
  }

  /** Texts of groups that provably apply wherever `text` does (itself included). */
  impliedBy(text: string): string[] {
    const candidates = new Set(this.anyPremise);
    for (const token of this.tokens.get(text)!.premise)
      for (const c of this.byConclusion.get(token) ?? []) candidates.add(c);
    candidates.add(text);
    const a = this.parsed.get(text)!;
    return [...candidates].filter((c) => c === text || selectorImplies(a, this.parsed.get(c)!));
  }

  /** Texts of groups wherever which `text` provably applies (itself included). */
  implying(text: string): string[] {
    const { conclusion } = this.tokens.get(text)!;
    const candidates = new Set<string>([text]);
    if (conclusion === undefined) for (const c of this.byText.keys()) candidates.add(c);
    else
      for (const token of conclusion)
        for (const c of this.byPremise.get(token) ?? []) candidates.add(c);
    const b = this.parsed.get(text)!;
    return [...candidates].filter((c) => c === text || selectorImplies(this.parsed.get(c)!, b));
  }

  /** Enforce rules of every policy applying wherever `text` does, per direction, in precedence order. */
  rulesFor(text: string): Readonly<Record<Direction, CompiledRule[]>> {
    let rules = this.implied.get(text);
    if (rules === undefined) {
      const all = this.impliedBy(text)
        .flatMap((token) => this.byText.get(token)!)
        .flatMap((p) => p.rules)
        .sort(comparePrecedence);
      rules = {
        egress: all.filter((r) => r.direction === 'egress'),
        ingress: all.filter((r) => r.direction === 'ingress'),
      };
      this.implied.set(text, rules);
    }
    return rules;
  }

  /**
   * The policies to check: all, or those in scope and those that a scoped policy's rules
   * could shadow (their appliesTo implies a scoped policy's).
   */
  toCheck(scope: ReadonlySet<string> | undefined): CompiledPolicy[] {
    if (!scope) return [...this.byText.values()].flat();
    const texts = new Set<string>();
    for (const [text, ps] of this.byText)
      if (ps.some((p) => scope.has(p.doc.name)))
        for (const token of this.implying(text)) texts.add(token);
    return [...texts].flatMap((token) => this.byText.get(token)!);
  }
}

/**
 * implicationTokens memoized by canonical text: selectors outlive one analysis, so an
 * apply of one policy into 10,000 does not re-derive 10,000 token sets.
 */
function tokensOf(text: string, sel: Selector): ReturnType<typeof implicationTokens> {
  let tokens = TOKENS.get(text);
  if (tokens === undefined) {
    tokens = implicationTokens(sel);
    if (TOKENS.size >= 100_000) TOKENS.clear();
    TOKENS.set(text, tokens);
  }
  return tokens;
}

const TOKENS = new Map<string, ReturnType<typeof implicationTokens>>();

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function shadowedWarning(rule: CompiledRule, by: readonly CompiledRule[]): RuleWarning {
  if (by.length === 0)
    return warning(
      'shadowed',
      rule,
      `${label(rule)} can never decide: its cidr peer less its exceptions holds no address`,
    );
  const tie = by.every((b) => b.priority === rule.priority);
  const why = tie ? ` (equal priority: ${by[0]!.action} beats ${rule.action})` : '';
  const names = by.map(label).join(' and ');
  const verb = by.length > 1 ? 'decide first, together' : 'decides first';
  return {
    ...warning('shadowed', rule, `${label(rule)} can never decide: ${names} ${verb}${why}`),
    shadowedBy: by.map(ref),
  };
}

function warning(kind: RuleWarning['kind'], rule: CompiledRule, message: string): RuleWarning {
  return { kind, rule: { ...ref(rule), direction: rule.direction }, message };
}

function ref(r: CompiledRule): RuleRef {
  return { ...r.ref };
}

/** `Policy/q egress[0] (allow, priority 100)`. */
function label(r: CompiledRule): string {
  return `Policy/${r.policy} ${r.ref.rule} (${r.action}, priority ${r.priority})`;
}

/** Why a rule matches nothing in the documents as they are, or undefined. */
function unusedReason(
  p: CompiledPolicy,
  rule: CompiledRule,
  ctx: RuleWarningContext,
): string | undefined {
  if (p.appliesTo.members.size === 0)
    return `its policy's appliesTo '${p.appliesTo.text}' selects no record`;
  if (rule.peer.kind === 'selector' && rule.peer.entry.members.size === 0)
    return `its peer selector '${rule.peer.entry.text}' matches no record`;
  if (rule.peer.kind === 'partition' && (ctx.partitionMembers(rule.peer.name)?.size ?? 0) === 0)
    return `its peer partition "${rule.peer.name}" has no member`;
  return undefined;
}

function indexOf(label: string): number {
  return Number(/\[(\d+)\]$/.exec(label)?.[1] ?? 0);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
