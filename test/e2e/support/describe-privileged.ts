/**
 * The one rule for tests that need root and network namespaces: where the
 * prerequisites are missing they skip with a loud message — except under CI=true,
 * where a missing prerequisite is a failing test naming what is missing.
 */
import { describe, expect, it } from 'vitest';
import { privilegedProblem } from './topology.js';

/** What a suite needs beyond root and VXLAN-GBP + nft in a namespace. */
export interface PrivilegedNeeds {
  /** Commands whose `--version` (or given argv) must run (default: the e2e tools). */
  tools?: string[][];
  /** Name prefix of the probe namespace (the suite's own prefix). */
  prefix?: string;
}

/**
 * `describe(what, body)` when the machine can run privileged tests; otherwise a
 * skip with a warning, or under CI=true one failing test instead of the suite.
 *
 * @example describePrivileged('datapath (real kernel)', {}, () => { it('…', async () => { … }); });
 */
export function describePrivileged(what: string, needs: PrivilegedNeeds, body: () => void): void {
  describeIfAvailable(
    { what, kind: 'privileged', needs: 'its privileged prerequisites' },
    privilegedProblem(needs.tools, needs.prefix),
    body,
  );
}

/**
 * The rule itself, for every test kind that needs a resource (privileged, browser):
 * `problem` undefined runs the suite; otherwise, under CI=true, one failing test names
 * the problem, and elsewhere the suite is skipped with a loud warning — the only skip
 * this project allows.
 */
export function describeIfAvailable(
  suite: { what: string; kind: string; needs: string },
  problem: string | undefined,
  body: () => void,
): void {
  if (problem === undefined) {
    describe(suite.what, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(suite.what, () => {
      it(`has ${suite.needs} (required under CI=true)`, () => {
        expect(problem).toBeUndefined();
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING ${suite.kind} tests "${suite.what}": ${problem}\n`);
  describe.skip(suite.what, body);
}
