import { createServer, type Server } from 'node:http';
import type { Logger } from './log.js';

/** What the probes report. */
export interface ProbeState {
  /** Ready to do its job: the cache is loaded and the reconciler runs (the hub may be unreachable). */
  ready(): boolean;
  /** Connected to the hub right now; shown in the body for humans, not used for readiness. */
  hubConnected(): boolean;
}

/** A running probe server. */
export interface ProbeServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /healthz (200 while the process serves requests) and GET /readyz (200 when ready, 503
 * otherwise) on `port`. Readiness does not require the hub: an agent that keeps reconciling from its
 * cache is doing its job, and a hub outage must not block rolling updates of the agent itself.
 */
export async function startProbeServer(port: number, state: ProbeState, log: Logger): Promise<ProbeServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const respond = (status: number, body: Record<string, unknown>): void => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return respond(405, { error: 'method not allowed' });
    if (path === '/healthz') return respond(200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = state.ready();
      return respond(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', hubConnected: state.hubConnected() });
    }
    return respond(404, { error: 'not found' });
  });
  server.requestTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  log.info('probe server listening', { port: boundPort });
  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
