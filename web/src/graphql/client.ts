import { cacheExchange, Client, type CombinedError, fetchExchange, mapExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';

/** The hub's GraphQL endpoint, on the origin that served the dashboard. */
const GRAPHQL_PATH = '/graphql';

/** True for the answers that mean the token is no longer accepted (expired, revoked, unknown). */
export function isUnauthenticated(error: CombinedError): boolean {
  return error.response?.status === 401 || error.graphQLErrors.some((e) => e.extensions?.['code'] === 'UNAUTHENTICATED');
}

/**
 * A GraphQL client for one token: queries and mutations over HTTP with the bearer token, subscriptions
 * over graphql-ws on the same origin (the token in `connection_init`). `onUnauthenticated` runs when the
 * hub refuses the token, so the session ends.
 */
export function createHubClient(token: string, onUnauthenticated: () => void): { client: Client; dispose: () => void } {
  const wsUrl = new URL(GRAPHQL_PATH, window.location.href);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWsClient({
    url: wsUrl.toString(),
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    // Bounded: a hub that stays away ends in an error shown on the page, not an endless loop.
    retryAttempts: 5,
    on: {
      closed: (event) => {
        // 4403 Forbidden / 4401 Unauthorized: the hub refused the token in connection_init.
        const code = (event as { code?: number }).code;
        if (code === 4401 || code === 4403) onUnauthenticated();
      },
    },
  });
  const client = new Client({
    url: GRAPHQL_PATH,
    // POST: the hub refuses mutations over GET, and long queries would not fit a URL.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error)) onUnauthenticated();
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}
