// Monaco's workers as files of this build (served by the hub under /assets), not blob: URLs.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './graphiql.css';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { readToken } from '../session/token-store';
import { createHubFetcher, initialHeaders } from './hub-fetcher';
import { createTabStorage } from './tab-storage';

const root = document.getElementById('graphiql');
if (!root) throw new Error('the page has no #graphiql element');
const fetcher = createHubFetcher(window.location.href);
const headers = initialHeaders(readToken());
// The token never reaches localStorage: headers are not kept with the tabs (shouldPersistHeaders), and
// what GraphiQL does keep (its history holds each operation's headers) is in the tab's sessionStorage.
const storage = createTabStorage(sessionStorage);

createRoot(root).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      storage={storage}
      initialHeaders={headers}
      defaultHeaders={headers}
      shouldPersistHeaders={false}
      defaultEditorToolsVisibility="headers"
    />
  </StrictMode>,
);
