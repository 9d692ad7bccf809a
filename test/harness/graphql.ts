export interface GraphqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A GraphQL client over fetch. `must` throws on GraphQL errors and returns `data`. */
export function graphqlClient(url: string) {
  async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResponse<T>> {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as GraphqlResponse<T>;
  }
  async function must<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await gql<T>(query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data!;
  }
  return { gql, must };
}
