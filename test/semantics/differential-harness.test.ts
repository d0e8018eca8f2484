/**
 * The differential harness must pass a correct engine and catch broken ones with a
 * seed, a small model and both explanations.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol, Tags } from '../../src/model/types.js';
import type { CheckRequest, CheckResult, ResolvedPolicy } from '../../src/engine/index.js';
import { OracleEngine } from '../support/oracle/oracle-engine.js';
import {
  differentialFresh,
  differentialIncremental,
  differentialPolicyForTags,
} from './differential-harness.js';

/** Forgets that deny beats log at equal priority. */
class LogBeatsDeny extends OracleEngine {
  override check(req: CheckRequest): CheckResult {
    const r = super.check(req);
    for (const side of [r.egress, r.ingress]) {
      const log = side.overridden.find(
        (o) => o.action === 'log' && o.priority === side.rule?.priority,
      );
      if (side.rule?.action === 'deny' && log) {
        side.verdict = 'allow';
        side.logged = true;
        side.rule = log;
        side.policy = log.policy;
      }
    }
    r.verdict = r.egress.verdict === 'allow' && r.ingress.verdict === 'allow' ? 'allow' : 'deny';
    return r;
  }
}

/** Ignores every change after the load. */
class Frozen extends OracleEngine {
  override apply(): void {}
}

/** A fast path that remembers every verdict forever (a pair table never invalidated). */
class StaleFastPath extends OracleEngine {
  private readonly memo = new Map<string, boolean>();
  override verdict(src: string, dst: string, protocol: Protocol, port: number): boolean {
    const k = `${src} ${dst} ${protocol} ${port}`;
    let v = this.memo.get(k);
    if (v === undefined) this.memo.set(k, (v = super.verdict(src, dst, protocol, port)));
    return v;
  }
}

/** Lists rules in reverse. */
class Reversed extends OracleEngine {
  override getPolicyForTags(tags: Tags): ResolvedPolicy {
    const p = super.getPolicyForTags(tags);
    return { ...p, egress: [...p.egress].reverse() };
  }
}

describe('differential harness', () => {
  it('passes the reference behind the Engine API', () => {
    const opts = { baseSeed: 7, models: 40 };
    expect(differentialFresh(() => new OracleEngine(), opts).failure).toBeUndefined();
    expect(differentialIncremental(() => new OracleEngine(), opts).failure).toBeUndefined();
    expect(differentialPolicyForTags(() => new OracleEngine(), opts).failure).toBeUndefined();
  });

  it('catches a precedence bug and prints seed, a shrunken YAML model and both explanations', () => {
    const run = differentialFresh(() => new LogBeatsDeny(), { baseSeed: 1, models: 300 });
    expect(run.failure).toMatch(/^engine and reference disagree \(seed \d+\)/);
    expect(run.failure).toContain('kind: Policy');
    expect(run.failure).toContain('reference: {');
    expect(run.failure).toContain('engine: {');
    // Shrunk: one deny and one log rule suffice, so at most two policies remain.
    expect((run.failure!.match(/kind: Policy/g) ?? []).length).toBeLessThanOrEqual(2);
  });

  it('catches an engine that ignores incremental changes, naming the change', () => {
    const run = differentialIncremental(() => new Frozen(), { baseSeed: 1, models: 50 });
    expect(run.failure).toMatch(/after change \d+/);
    expect(run.failure).toContain('the incremental path is wrong');
  });

  it('catches a fast path that is stale after a change, re-checking earlier flows', () => {
    const run = differentialIncremental(() => new StaleFastPath(), { baseSeed: 1, models: 50 });
    expect(run.failure).toMatch(/after change \d+/);
    expect(run.failure).toContain('fast path (verdict): reference');
    expect(run.failure).toContain('the incremental path is wrong');
  });

  it('catches a wrong getPolicyForTags order', () => {
    const run = differentialPolicyForTags(() => new Reversed(), { baseSeed: 1, models: 50 });
    expect(run.failure).toMatch(/getPolicyForTags/);
  });
});
