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
  type CompiledRoute,
  type CompiledRule,
} from '../compile/compiled-rule.js';
import { ResolvedSide } from '../compile/resolved-side.js';
import { buildSteeringSide } from '../compile/steering-resolution.js';
import type { IdentityInfo } from '../identity/identity-registry.js';
import { sideKey, type EngineState } from '../state/engine-state.js';
import { pairDefault, type PairDefault } from './pair-default.js';

export class Sides {
  /** The shared empty route side of models that route nothing. */
  private noRoutes: ResolvedSide | undefined;

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
    const k = sideKey(id, dir);
    let s = this.state.sides.get(k);
    if (s === undefined) {
      s = this.buildSide(id, dir);
      this.state.sides.set(k, s);
    }
    return s;
  }

  private buildSide(id: number, dir: Direction): ResolvedSide {
    const rules: CompiledRule[] = [];
    const audit: CompiledRule[] = [];
    for (const policy of this.policiesApplyingTo(id))
      for (const r of policy.rules) {
        if (r.direction !== dir) continue;
        (r.mode === 'audit' ? audit : rules).push(r);
      }
    rules.sort(comparePrecedence);
    audit.sort(comparePrecedence);
    return new ResolvedSide(id, dir, rules, audit, this.state.peerMembers);
  }

  /** The routes of the enforce-mode policies that apply to `id`, resolved. */
  routeSide(id: number): ResolvedSide {
    // Most models route nothing: one shared empty side, no per-identity cache.
    if (this.state.classes.size === 0)
      return (this.noRoutes ??= buildSteeringSide(0, [], () => undefined));
    let s = this.state.routeSides.get(id);
    if (s === undefined) {
      const routes: CompiledRoute[] = [];
      for (const policy of this.policiesApplyingTo(id)) routes.push(...policy.routes);
      s = buildSteeringSide(id, routes, this.state.peerMembers);
      this.state.routeSides.set(id, s);
    }
    return s;
  }

  /** The compiled policies whose appliesTo selects `id` (through the guard index). */
  private policiesApplyingTo(id: number): CompiledPolicy[] {
    const { state } = this;
    const out: CompiledPolicy[] = [];
    const info = state.ids.get(id);
    if (!info) return out;
    for (const e of state.cache.candidates(info.tags)) {
      const users = state.appliesUsers.get(e);
      if (!users || !e.members.has(id)) continue;
      for (const name of users) out.push(state.policies.get(name)!);
    }
    return out;
  }

  /** The §2.2 default from local identity `a` towards peer `b` (cached per pair). */
  cachedDefault(a: number, b: number): 'allow' | 'deny' {
    const k = a * 65536 + b;
    let v = this.state.defaultsCache.get(k);
    if (v === undefined) {
      const { ids } = this.state;
      v = this.pairDefaultOf(ids.get(a), b === IDENTITY_WORLD ? undefined : ids.get(b)).verdict;
      this.state.defaultsCache.set(k, v);
    }
    return v;
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

  /** A partition's `intra` (bound once: the per-pair defaults call it often). */
  private readonly intraOf = (name: string): IntraDefault | undefined =>
    this.state.partitions.get(name)?.doc.intra;
}
