import { useCallback, useEffect, useMemo, useState } from 'react';
import { Button } from 'react-aria-components';
import { BrowserRouter, Navigate, NavLink, Route, Routes } from 'react-router';
import { Provider, type Client } from 'urql';
import { AppSetView } from './app-sets/app-set-view';
import { AppView } from './app-sets/app-view';
import { AppSetsView } from './app-sets/app-sets-view';
import { PreviewView } from './app-sets/preview-view';
import { AuditView } from './audit/audit-view';
import { errorText } from './components/query-state';
import { FleetView } from './fleet/fleet-view';
import { MeDocument } from './gen/graphql';
import { createHubClient } from './graphql/client';
import { RolloutView } from './rollouts/rollout-view';
import { RolloutsView } from './rollouts/rollouts-view';
import { LoginView } from './session/login-view';
import { expiredNotice, msUntilExpiry, SessionContext, type Me, type Session } from './session/session';
import { SsoCallbackView } from './session/sso-callback-view';
import { isSsoCallback } from './session/sso-flow';
import { forgetToken, readToken, saveToken } from './session/token-store';

interface Signed {
  readonly token: string;
  readonly client: Client;
  readonly dispose: () => void;
  readonly me: Me;
}

/** The dashboard: the sign-in page, or the signed-in views. */
const TOKEN_REFUSED = 'The hub refused this token.';
const SESSION_ENDED = 'Your session ended: the hub no longer accepts this token (expired or revoked). Sign in again.';

export function App() {
  const [signed, setSigned] = useState<Signed | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [restoring, setRestoring] = useState(() => readToken() !== undefined);

  const signOut = useCallback((message?: string) => {
    forgetToken();
    setSigned((current) => {
      current?.dispose();
      return undefined;
    });
    setNotice(message);
  }, []);

  const signIn = useCallback(
    async (token: string): Promise<string | undefined> => {
      let refused = false;
      let established = false;
      const hub = createHubClient(token, () => {
        refused = true;
        if (established) signOut(SESSION_ENDED);
      });
      const result = await hub.client.query(MeDocument, {}, { requestPolicy: 'network-only' }).toPromise();
      if (result.error || !result.data) {
        hub.dispose();
        if (refused || result.error?.response?.status === 401) {
          forgetToken();
          return TOKEN_REFUSED;
        }
        return result.error ? errorText(result.error) : 'No answer from the hub.';
      }
      established = true;
      saveToken(token);
      setNotice(undefined);
      setSigned({ token, client: hub.client, dispose: hub.dispose, me: result.data.me });
      return undefined;
    },
    [signOut],
  );

  // A reload keeps the session: the token in this tab's storage is checked again.
  useEffect(() => {
    const token = readToken();
    if (!token) return;
    void signIn(token).then((failure) => {
      // A kept token the hub refuses now expired or was revoked while the tab was closed or reloading.
      if (failure) signOut(failure === TOKEN_REFUSED ? SESSION_ENDED : failure);
      setRestoring(false);
    });
  }, [signIn, signOut]);

  // The session ends when the token expires.
  useEffect(() => {
    if (!signed) return;
    const wait = msUntilExpiry(signed.me.expiresAt, Date.now());
    if (wait === undefined) return;
    const timer = setTimeout(() => {
      if (Date.parse(signed.me.expiresAt ?? '') <= Date.now()) signOut(expiredNotice(signed.me.kind));
    }, wait);
    return () => clearTimeout(timer);
  }, [signed, signOut]);

  const session = useMemo<Session | undefined>(() => (signed ? { me: signed.me, signOut } : undefined), [signed, signOut]);
  // The identity provider's redirect back (single sign-on): finished before any stored token is tried.
  if (!signed && isSsoCallback(window.location)) return <SsoCallbackView signIn={signIn} />;
  if (restoring && !signed) return <p aria-live="polite">Signing in…</p>;
  if (!signed || !session) return <LoginView notice={notice} signIn={signIn} />;
  return (
    <SessionContext.Provider value={session}>
      <Provider value={signed.client}>
        <BrowserRouter>
          <Shell />
        </BrowserRouter>
      </Provider>
    </SessionContext.Provider>
  );
}

function Shell() {
  return (
    <SessionContext.Consumer>
      {(session) => (
        <>
          <a className="skip" href="#main">
            Skip to content
          </a>
          <header className="header">
            <span className="brand">Flotilla</span>
            <nav aria-label="Views">
              <NavLink to="/fleet">Fleet</NavLink>
              <NavLink to="/app-sets">AppSets</NavLink>
              <NavLink to="/rollouts">Rollouts</NavLink>
              <NavLink to="/audit">Audit</NavLink>
            </nav>
            <span className="who">
              Signed in as {session?.me.name} ({session?.me.admin ? 'admin' : session?.me.projects.map((p) => `${p.project}: ${p.role.toLowerCase()}`).join(', ') || 'no role'})
            </span>
            <Button className="button" onPress={() => session?.signOut('You signed out.')}>
              Sign out
            </Button>
          </header>
          <main id="main" tabIndex={-1}>
            <Routes>
              <Route path="/" element={<Navigate to="/fleet" replace />} />
              <Route path="/fleet" element={<FleetView />} />
              <Route path="/app-sets" element={<AppSetsView />} />
              <Route path="/app-sets/preview" element={<PreviewView />} />
              <Route path="/app-sets/:project/:name" element={<AppSetView />} />
              <Route path="/app-sets/:project/:name/apps/:cluster/:app" element={<AppView />} />
              <Route path="/rollouts" element={<RolloutsView />} />
              <Route path="/rollouts/:id" element={<RolloutView />} />
              <Route path="/audit" element={<AuditView />} />
              <Route path="*" element={<p>No such page. <NavLink to="/fleet">Go to the fleet</NavLink>.</p>} />
            </Routes>
          </main>
        </>
      )}
    </SessionContext.Consumer>
  );
}
