/** Where a hub serves GraphQL over HTTP and graphql-ws. */
export interface HubEndpoints {
  /** `http(s)://host:port/.../graphql` */
  readonly graphqlUrl: string;
  /** The same URL as `ws(s)://`. */
  readonly websocketUrl: string;
}

/**
 * Reads the `--server` of a hub: its base URL (`http://localhost:4000`) or its GraphQL URL (ending
 * in `/graphql`). Throws an Error saying what is wrong for anything but an http(s) URL without
 * credentials, query or fragment.
 */
export function hubEndpoints(server: string): HubEndpoints {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`--server "${server}" is not a URL: give the hub's address, e.g. http://localhost:4000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--server "${server}": only http:// and https:// hubs are supported`);
  if (url.username || url.password) throw new Error('--server must not carry credentials: give the token with --token or FLOTILLA_TOKEN');
  if (url.search || url.hash) throw new Error(`--server "${server}" must not have a query or fragment`);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/graphql') ? path : `${path}/graphql`;
  const graphqlUrl = url.toString();
  return { graphqlUrl, websocketUrl: graphqlUrl.replace(/^http/, 'ws') };
}
