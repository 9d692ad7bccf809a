import { useEffect, useState } from 'react';
import { Button, Input, Label, Text, TextField } from 'react-aria-components';
import type { SsoConfig } from './sso-callback';
import { fetchSsoConfig, forgetPendingSignIn, startSingleSignOn } from './sso-flow';
import { normalizeToken } from './token-store';

export interface LoginViewProps {
  /** Why the last session ended, when it did. */
  readonly notice?: string | undefined;
  /** Checks the token with the hub; an error message when refused. */
  signIn(token: string): Promise<string | undefined>;
}

/** Sign in with single sign-on when the hub offers it, or with an API token pasted from `flotilla` or the hub's first start. */
export function LoginView({ notice, signIn }: LoginViewProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="login">
      <h1>Flotilla</h1>
      {notice && <p role="status">{notice}</p>}
      <SingleSignOn />
      <form
        aria-label="Sign in"
        onSubmit={(event) => {
          event.preventDefault();
          const token = normalizeToken(text);
          if (!token) {
            setError('Paste an API token first.');
            return;
          }
          setBusy(true);
          void signIn(token).then((failure) => {
            setBusy(false);
            setError(failure);
          });
        }}
      >
        <TextField className="field" value={text} onChange={setText} type="password" autoComplete="off" isInvalid={error !== undefined} validationBehavior="aria">
          <Label>API token</Label>
          <Input autoFocus />
          <Text slot="description">The hub prints where its admin token is on first start; kept in this tab only, until it expires or you sign out.</Text>
        </TextField>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <Button className="button primary" type="submit" isDisabled={busy}>
          Sign in
        </Button>
      </form>
    </main>
  );
}

/** The single sign-on button, when the hub offers it (GET /api/auth/config); nothing otherwise. */
function SingleSignOn() {
  const [config, setConfig] = useState<SsoConfig | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    forgetPendingSignIn();
    const abort = new AbortController();
    // A hub that cannot say leaves the API token form alone: nothing to show.
    fetchSsoConfig(abort.signal).then(setConfig, () => undefined);
    return () => abort.abort();
  }, []);
  if (!config) return null;
  return (
    <section aria-label="Single sign-on">
      <Button
        className="button primary"
        isDisabled={busy}
        onPress={() => {
          setBusy(true);
          setError(undefined);
          startSingleSignOn(config, Date.now()).catch((failure: unknown) => {
            setBusy(false);
            setError(failure instanceof Error ? failure.message : String(failure));
          });
        }}
      >
        Sign in with single sign-on
      </Button>
      <p className="muted">At {new URL(config.issuer).host}. The session ends when its access token expires; then you sign in again.</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="muted">Or with an API token:</p>
    </section>
  );
}
