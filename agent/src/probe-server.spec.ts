import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from './log.js';
import { startProbeServer, type ProbeServer } from './probe-server.js';

describe('startProbeServer', () => {
  let server: ProbeServer | undefined;
  let ready = true;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ready = true;
  });

  it.each([
    { name: 'healthz answers 200 while the process runs', path: '/healthz', isReady: false, status: 200, body: { status: 'ok' } },
    { name: 'readyz answers 200 when ready, even without a hub', path: '/readyz', isReady: true, status: 200, body: { status: 'ready', hubConnected: false } },
    { name: 'readyz answers 503 when not ready', path: '/readyz', isReady: false, status: 503, body: { status: 'not ready', hubConnected: false } },
    { name: 'an unknown path answers 404', path: '/metrics', isReady: true, status: 404, body: { error: 'not found' } },
  ])('$name', async ({ path, isReady, status, body }) => {
    ready = isReady;
    server = await startProbeServer(0, { ready: () => ready, hubConnected: () => false }, silentLogger);
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual(body);
  });
});
