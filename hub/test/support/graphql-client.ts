/** A minimal GraphQL client over fetch, for tests. Throws on transport errors, returns GraphQL errors. */
export interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A client that presents `token` as `Authorization: Bearer <token>` on every request; an empty token throws. */
export function graphqlClient(url: string, token: string) {
  if (!token) throw new Error(`graphqlClient(${url}): a token is required (TEST_ADMIN_TOKEN from ./admin-token)`);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  return async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResponse<T>> {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as GraphqlResponse<T>;
  };
}

/** Polls `check` until it returns a truthy value or the time is up; returns the value. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last instanceof Error ? last.message : JSON.stringify(last))}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
