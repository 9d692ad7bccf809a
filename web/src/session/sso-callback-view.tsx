import { useEffect, useState } from 'react';
import { finishSingleSignOn } from './sso-flow';

export interface SsoCallbackViewProps {
  /** Checks the token with the hub (as a pasted API token is checked); an error message when refused. */
  signIn(token: string): Promise<string | undefined>;
}

/**
 * One completion per page load: the authorization code may be exchanged once, and React may run an
 * effect twice (StrictMode in development).
 */
let completion: Promise<string | undefined> | undefined;

/** /auth/callback: the identity provider sent the browser back; finish the sign-in, or say why not. */
export function SsoCallbackView({ signIn }: SsoCallbackViewProps) {
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    completion ??= (async () => {
      const callback = new URL(window.location.href);
      // The code and state leave the address bar and the history at once, whatever happens next.
      window.history.replaceState(null, '', '/');
      try {
        return await signIn(await finishSingleSignOn(callback, Date.now()));
      } catch (failure) {
        return failure instanceof Error ? failure.message : String(failure);
      }
    })();
    void completion.then(setError);
  }, [signIn]);
  return (
    <main className="login">
      <h1>Flotilla</h1>
      {error === undefined ? (
        <p aria-live="polite">Signing in…</p>
      ) : (
        <>
          <p role="alert" className="error">
            {error}
          </p>
          <p>
            <a href="/">Back to the sign-in page</a>
          </p>
        </>
      )}
    </main>
  );
}
