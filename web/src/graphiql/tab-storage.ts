import type { Storage } from '@graphiql/toolkit';

/** The prefix of every key GraphiQL stores (tabs, history, settings). */
const GRAPHIQL_PREFIX = 'graphiql:';

/**
 * GraphiQL's storage in the browser tab's sessionStorage rather than its default, localStorage: its
 * history keeps each operation's headers, the bearer token among them, and the token must not outlive
 * the tab, as the dashboard's does not (session/token-store.ts). Tabs and history go with the tab too.
 * `length` and `clear` see GraphiQL's keys only, so clearing GraphiQL's storage (its settings dialog)
 * never signs the dashboard out.
 */
export function createTabStorage(store: globalThis.Storage): Storage {
  const graphiqlKeys = () => Array.from({ length: store.length }, (_, i) => store.key(i)).filter((key): key is string => key?.startsWith(GRAPHIQL_PREFIX) === true);
  return {
    getItem: (key) => store.getItem(key),
    setItem: (key, value) => store.setItem(key, value),
    removeItem: (key) => store.removeItem(key),
    get length() {
      return graphiqlKeys().length;
    },
    clear() {
      for (const key of graphiqlKeys()) store.removeItem(key);
    },
  };
}
