/**
 * Sign-in: the token arrives in the URL fragment (`#token=…`, printed by `vnp server`
 * like Jupyter's URL) or is typed in; it is kept in sessionStorage (gone with the tab,
 * never a cookie, never in a query string) and wiped from the address bar at once.
 */

const KEY = 'vnp.token';

/** The part of sessionStorage used here. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * The token carried by a fragment, if any, and the fragment to leave in its place.
 *
 * @example tokenFromFragment('#token=vnp_a_b') // { token: 'vnp_a_b', rest: '#/' }
 * @example tokenFromFragment('#/records') // { token: undefined, rest: '#/records' }
 */
export function tokenFromFragment(hash: string): { token: string | undefined; rest: string } {
  const m = /^#token=([^&]*)(?:&(.*))?$/.exec(hash);
  if (!m) return { token: undefined, rest: hash };
  const token = decodeURIComponent(m[1] ?? '').trim();
  const next = m[2] !== undefined && m[2].startsWith('/') ? `#${m[2]}` : '#/';
  return { token: token === '' ? undefined : token, rest: next };
}

/**
 * Take a token from the address bar (removing it from the URL and the history entry)
 * or from the session; returns the token to use, if any.
 */
export function takeToken(win: Window, storage: TokenStorage): string | undefined {
  const { token, rest } = tokenFromFragment(win.location.hash);
  if (token !== undefined) {
    storage.setItem(KEY, token);
    win.history.replaceState(null, '', `${win.location.pathname}${rest}`);
    return token;
  }
  return storage.getItem(KEY) ?? undefined;
}

export function storeToken(storage: TokenStorage, token: string): void {
  storage.setItem(KEY, token);
}

export function forgetToken(storage: TokenStorage): void {
  storage.removeItem(KEY);
}
