import { bearer } from './auth.js';

export interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * A GraphQL client over fetch that presents `token` as `Authorization: Bearer <token>` on every
 * request (usually `hub.adminToken`). `gql` returns GraphQL errors; `must` throws on them and returns
 * `data`. Throws at once on an empty token: an anonymous client is a harness mistake, not a test.
 */
export function graphqlClient(url: string, token: string) {
  if (!token) throw new Error(`graphqlClient(${url}): a token is required (pass hub.adminToken)`);
  const headers = { 'content-type': 'application/json', authorization: bearer(token) };
  async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResponse<T>> {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as GraphqlResponse<T>;
  }
  async function must<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await gql<T>(query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  }
  return { gql, must };
}
