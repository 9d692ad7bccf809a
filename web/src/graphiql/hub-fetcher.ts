import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';

/** The hub's GraphQL endpoint, on the origin that served the page. */
const GRAPHQL_PATH = '/graphql';

/**
 * GraphiQL's fetcher for the hub: queries and mutations over HTTP POST to /graphql, subscriptions over
 * graphql-ws on the same origin. The headers of GraphiQL's headers editor go with every HTTP request
 * and, for subscriptions, in `connection_init` (where the hub reads `Authorization`).
 */
export function createHubFetcher(pageUrl: string): Fetcher {
  const wsUrl = new URL(GRAPHQL_PATH, pageUrl);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  return createGraphiQLFetcher({ url: new URL(GRAPHQL_PATH, pageUrl).toString(), subscriptionUrl: wsUrl.toString() });
}

/**
 * The headers editor's first text: the dashboard's token of this tab when there is one, otherwise an
 * `Authorization` line waiting for a token (every query needs one).
 */
export function initialHeaders(token: string | undefined): string {
  return JSON.stringify({ Authorization: `Bearer ${token ?? ''}` }, null, 2);
}
