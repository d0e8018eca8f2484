/** The one rule for browser tests: the same as for privileged ones (describeIfAvailable). */
import { describeIfAvailable } from '../../e2e/support/describe-privileged.js';
import { browserProblem } from './browser.js';

/**
 * `describe` when Chromium and the bundle are there; otherwise a loud skip, or one
 * failing test under CI=true.
 */
export function describeBrowser(what: string, body: () => void): void {
  describeIfAvailable(
    { what, kind: 'browser', needs: 'Chromium and the built UI' },
    browserProblem(),
    body,
  );
}
