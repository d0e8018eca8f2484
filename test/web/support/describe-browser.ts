/** The one rule for browser tests (as describePrivileged for privileged ones). */
import { describe, expect, it } from 'vitest';
import { browserProblem } from './browser.js';

/**
 * `describe` when Chromium and the bundle are there; otherwise a loud skip, or one
 * failing test under CI=true (as describePrivileged).
 */
export function describeBrowser(what: string, body: () => void): void {
  const problem = browserProblem();
  if (problem === undefined) {
    describe(what, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(what, () => {
      it('has Chromium and the built UI (required under CI=true)', () => {
        expect(problem).toBeUndefined();
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING browser tests "${what}": ${problem}\n`);
  describe.skip(what, body);
}
