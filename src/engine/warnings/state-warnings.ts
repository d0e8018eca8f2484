/**
 * Rule warnings (./rule-warnings.ts) of the engine's current documents, and of the documents a
 * batch would produce without applying it.
 */
import { canonicalSelector } from '../../selector/index.js';
import { compilePolicy } from '../compile/compiled-rule.js';
import { SelectorCache } from '../identity/selector-cache.js';
import type { EngineState } from '../state/engine-state.js';
import type { Change, RuleWarning } from '../types.js';
import { ruleWarnings, type RuleWarningOptions } from './rule-warnings.js';

/** Rules of the current documents that can never decide (design.md §2.1). */
export function currentRuleWarnings(
  state: EngineState,
  opts: RuleWarningOptions = {},
): RuleWarning[] {
  return ruleWarnings(
    {
      policies: state.policies.values(),
      partitionSelector: (name) => state.partitions.get(name)?.entry.text,
      partitionMembers: (name) => state.partitions.get(name)?.entry.members,
    },
    opts,
  );
}

/**
 * The shadowing warnings of the documents a batch would produce (compiled into a scratch
 * selector cache; the state is not touched). `unused` needs the batch's records
 * evaluated, which only a fork does.
 */
export function ruleWarningsAfter(
  state: EngineState,
  changes: readonly Change[],
  opts: { policies?: ReadonlySet<string> } = {},
): RuleWarning[] {
  const scratch = new SelectorCache();
  const policies = new Map(state.policies);
  const partitions = new Map([...state.partitions].map(([n, p]) => [n, p.entry.text]));
  for (const c of changes) {
    const kind = c.op === 'put' ? c.doc.kind : c.kind;
    const name = c.op === 'put' ? c.doc.name : c.name;
    if (kind === 'Policy') policies.delete(name);
    if (kind === 'Partition') partitions.delete(name);
    if (c.op !== 'put') continue;
    if (c.doc.kind === 'Policy') policies.set(name, compilePolicy(c.doc, scratch));
    if (c.doc.kind === 'Partition') partitions.set(name, canonicalSelector(c.doc.selector));
  }
  return ruleWarnings(
    {
      policies: policies.values(),
      partitionSelector: (name) => partitions.get(name),
      partitionMembers: () => undefined,
    },
    opts,
  );
}
