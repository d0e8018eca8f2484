/**
 * The verdict facet's lookups of resolved policy: an identity's egress or ingress side,
 * its routes, and the §2.2 default between two identities. Built lazily from the
 * shared state and kept there until a batch invalidates them (src/engine/apply/).
 */
import type { Direction } from '../../model/host-state.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import type { IntraDefault } from '../../model/types.js';
import {
  comparePrecedence,
  type CompiledPolicy,
  type CompiledSteeringRoute,
  type CompiledRule,
} from '../compile/compiled-rule.js';
import { ResolvedSide } from '../compile/resolved-side.js';
import { buildSteeringSide } from '../compile/steering-resolution.js';
import type { IdentityInfo } from '../identity/identity-registry.js';
import { sideKey, type EngineState } from '../state/engine-state.js';
import { pairDefault, pairDefaultVerdict, type PairDefault } from './pair-default.js';

export class Sides {
  /** The shared empty route side of models that route nothing. */
  private noSteering: ResolvedSide | undefined;

  constructor(private readonly state: EngineState) {}

  /** Whether an identity belongs to a rule's peer set (selector, partition or any). */
  readonly memberTest = (rule: CompiledRule, peer: number): boolean => {
    if (rule.peer.kind === 'selector') return rule.peer.entry.members.has(peer);
    if (rule.peer.kind === 'partition')
      return this.state.partitions.get(rule.peer.name)?.entry.members.has(peer) ?? false;
    return rule.peer.kind === 'any';
  };

  /** The resolved rules of an identity in one direction. */
  side(id: number, dir: Direction): ResolvedSide {
    const key = sideKey(id, dir);
    let side = this.state.sides.get(key);
    if (side === undefined) {
      side = this.buildSide(id, dir);
      this.state.sides.set(key, side);
    }
    return side;
  }

  private buildSide(id: number, dir: Direction): ResolvedSide {
    const rules: CompiledRule[] = [];
    const audit: CompiledRule[] = [];
    for (const policy of this.policiesApplyingTo(id))
      for (const rule of policy.rules) {
        if (rule.direction !== dir) continue;
        (rule.mode === 'audit' ? audit : rules).push(rule);
      }
    rules.sort(comparePrecedence);
    audit.sort(comparePrecedence);
    return new ResolvedSide(id, dir, rules, audit, this.state.peerMembers);
  }

  /** The routes of the enforce-mode policies that apply to `id`, resolved. */
  steeringSide(id: number): ResolvedSide {
    // Most models route nothing: one shared empty side, no per-identity cache.
    if (this.state.classes.size === 0)
      return (this.noSteering ??= buildSteeringSide(0, [], () => undefined));
    let side = this.state.steeringSides.get(id);
    if (side === undefined) {
      const routes: CompiledSteeringRoute[] = [];
      for (const policy of this.policiesApplyingTo(id)) routes.push(...policy.routes);
      side = buildSteeringSide(id, routes, this.state.peerMembers);
      this.state.steeringSides.set(id, side);
    }
    return side;
  }

  /** The compiled policies whose appliesTo selects `id` (through the guard index). */
  private policiesApplyingTo(id: number): CompiledPolicy[] {
    const { state } = this;
    const out: CompiledPolicy[] = [];
    const info = state.ids.get(id);
    if (!info) return out;
    for (const entry of state.cache.candidates(info.tags)) {
      const users = state.appliesUsers.get(entry);
      if (!users || !entry.members.has(id)) continue;
      for (const name of users) out.push(state.policies.get(name)!);
    }
    return out;
  }

  /** The §2.2 default from local identity `a` towards peer `b` (cached per pair). */
  cachedDefault(a: number, b: number): 'allow' | 'deny' {
    const key = a * 65536 + b;
    let verdict = this.state.defaultsCache.get(key);
    if (verdict === undefined) {
      const { ids } = this.state;
      verdict = this.pairVerdictOf(ids.get(a), b === IDENTITY_WORLD ? undefined : ids.get(b));
      this.state.defaultsCache.set(key, verdict);
    }
    return verdict;
  }

  /** §2.2: the default of a flow between two endpoints (undefined = outside every record). */
  pairDefaultOf(a: IdentityInfo | undefined, b: IdentityInfo | undefined): PairDefault {
    return pairDefault(
      a?.partitions ?? [],
      b?.partitions ?? [],
      this.intraOf,
      this.state.settings.defaults,
    );
  }

  /** {@link pairDefaultOf}'s verdict alone (allocates nothing). */
  pairVerdictOf(a: IdentityInfo | undefined, b: IdentityInfo | undefined): IntraDefault {
    const { defaults } = this.state.settings;
    return pairDefaultVerdict(a?.partitions ?? [], b?.partitions ?? [], this.intraOf, defaults);
  }

  /** A partition's `intra` (bound once: the per-pair defaults call it often). */
  private readonly intraOf = (name: string): IntraDefault | undefined =>
    this.state.partitions.get(name)?.doc.intra;
}
