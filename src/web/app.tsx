/**
 * The app shell: sign-in, then a navigation bar and the page the fragment names
 * (`#/records`). Pages are components of ./pages; all share one live model.
 */
import { useEffect, useState } from 'preact/hooks';
import { clientFor, shownError, type ShownError } from './api.js';
import { ErrorBox } from './components/error-box.js';
import { SessionContext, type Role, type Session } from './context.js';
import { LiveModel } from './live-model.js';
import { LazyMapPage, PAGES, pageOf } from './pages/index.js';
import { prefetchGraph } from './pages/map-draw.js';
import { forgetToken, storeToken, takeToken } from './session.js';

async function signIn(token: string): Promise<Session> {
  const client = clientFor(token);
  // The model loads while whoami is asked (one round trip less before the first paint);
  // a token whoami refuses refuses the lists too, and the model is dropped.
  const model = new LiveModel(client);
  const loading = model.start();
  try {
    const me = await client.request<{ id: string; role: Role }>('GET', '/v1/whoami');
    if (me.role === 'agent')
      throw new Error(
        'an agent token is bound to its host and cannot read the model: use a viewer, operator or admin token',
      );
    // The map's graph is the one slow answer of a page switch, and its code the largest
    // chunk: ask for both ahead, once the first pages (and their revision) are in.
    const prefetch = () =>
      Promise.all([
        prefetchGraph(client, model.answers, model.revision),
        LazyMapPage.prefetch(),
      ]).catch(() => undefined);
    if (model.loaded) void prefetch();
    else {
      const off = model.subscribe(() => {
        if (!model.loaded) return;
        off();
        void prefetch();
      });
    }
    return { client, model, role: me.role, tokenId: me.id };
  } catch (e) {
    model.close();
    loading.catch(() => undefined);
    throw e;
  }
}

function SignIn({ error, onToken }: { error?: ShownError; onToken: (t: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <main id="main" class="signin">
      <h1>vnp</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onToken(token.trim());
        }}
      >
        <label for="token">Token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Sign in</button>
        <p class="hint">
          <code>npm start</code> prints a sign-in address; or paste a token (
          <code>vnp token create</code>).
        </p>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [route, setRoute] = useState(pageOf(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(pageOf(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useEffect(() => () => session.model.close(), [session]);
  const Page = route.component;
  return (
    <SessionContext.Provider value={session}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">vnp</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={`#/${p.id}`} aria-current={p.id === route.id ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-role={session.role}>
          {session.role} <code>{session.tokenId}</code>
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page />
      </main>
    </SessionContext.Provider>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(true);
  const use = (token: string) => {
    setBusy(true);
    signIn(token).then(
      (s) => {
        storeToken(window.sessionStorage, token);
        setError(undefined);
        setSession(s);
        setBusy(false);
      },
      (e: unknown) => {
        forgetToken(window.sessionStorage);
        setError(shownError(e));
        setBusy(false);
      },
    );
  };
  useEffect(() => {
    const token = takeToken(window, window.sessionStorage);
    if (token !== undefined) use(token);
    else setBusy(false);
  }, []);
  if (session)
    return (
      <Shell
        session={session}
        onSignOut={() => {
          forgetToken(window.sessionStorage);
          session.model.close();
          setSession(null);
        }}
      />
    );
  if (busy)
    return (
      <main id="main" aria-busy="true">
        Signing in…
      </main>
    );
  return <SignIn error={error} onToken={use} />;
}
