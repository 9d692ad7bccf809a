import { useState } from 'react';
import { Button, Input, Label, Text, TextField } from 'react-aria-components';
import { normalizeToken } from './token-store';

export interface LoginViewProps {
  /** Why the last session ended, when it did. */
  readonly notice?: string | undefined;
  /** Checks the token with the hub; an error message when refused. */
  signIn(token: string): Promise<string | undefined>;
}

/** Sign in with an API token pasted from `flotilla` or the hub's first start. */
export function LoginView({ notice, signIn }: LoginViewProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="login">
      <h1>Flotilla</h1>
      {notice && <p role="status">{notice}</p>}
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
