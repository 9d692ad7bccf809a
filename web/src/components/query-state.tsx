import type { CombinedError } from 'urql';

/** What a view shows while its data loads or when loading failed. */
export function QueryState({ fetching, error }: { fetching: boolean; error: CombinedError | undefined }) {
  if (error) {
    return (
      <p role="alert" className="error">
        Could not load: {errorText(error)}
      </p>
    );
  }
  if (fetching) return <p aria-live="polite">Loading…</p>;
  return null;
}

/** The message of a GraphQL or network error, without urql's "[GraphQL]" prefixes. */
export function errorText(error: CombinedError): string {
  if (error.graphQLErrors.length > 0) return error.graphQLErrors.map((e) => e.message).join('; ');
  return error.networkError?.message ?? error.message;
}
