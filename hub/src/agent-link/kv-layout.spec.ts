import { ConnectResponseSchema, create } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { appKey, appOf, chunkBytesFor, chunkFilter, chunkKey, clusterOfReportsSubject, isKeyToken, kvSubject, reportsSubject, splitValue, welcomeKey } from './kv-layout';

describe('KV layout', () => {
  it('puts every key of a cluster under `<cluster>.`, so that one subject permission covers them', () => {
    expect(appKey('edge-1', 'web')).toBe('edge-1.web');
    expect(welcomeKey('edge-1')).toBe('edge-1._welcome');
    expect(chunkKey('edge-1', 'web', 42n, 3)).toBe('edge-1.web._chunk.42.3');
    expect(chunkFilter('edge-1', 'web', 42n)).toBe('edge-1.web._chunk.42.>');
    expect(kvSubject('flotilla-desired', appKey('edge-1', 'web'))).toBe('$KV.flotilla-desired.edge-1.web');
  });

  it.each([
    { name: 'a dot would split the key', cluster: 'edge-1', app: 'a.b' },
    { name: 'a wildcard would widen a filter', cluster: 'edge-*', app: 'web' },
    { name: 'a space is not a subject character', cluster: 'edge-1', app: 'w b' },
    { name: 'an empty name leaves an empty token', cluster: '', app: 'web' },
  ])('refuses a name that cannot be a key token: $name', ({ cluster, app }) => {
    expect(() => appKey(cluster, app)).toThrow(/cannot be used in a NATS KV key/);
  });

  it.each([
    { subject: 'reports.edge-1', cluster: 'edge-1' },
    { subject: 'reports.edge-1.extra', cluster: undefined },
    { subject: 'reports', cluster: undefined },
    { subject: 'other.edge-1', cluster: undefined },
    { subject: 'reports.*', cluster: undefined },
  ])('reads the cluster of $subject as $cluster', ({ subject, cluster }) => {
    expect(clusterOfReportsSubject(subject)).toBe(cluster);
  });

  it('addresses agent messages on reports.<cluster>', () => {
    expect(reportsSubject('edge-1')).toBe('reports.edge-1');
    expect(isKeyToken('edge-1')).toBe(true);
    expect(isKeyToken('edge.1')).toBe(false);
  });

  it('keeps a value that fits in one piece and splits a larger one into consecutive pieces', () => {
    const bytes = Uint8Array.from({ length: 10 }, (_, i) => i);
    expect(splitValue(bytes, 10)).toEqual([bytes]);
    const pieces = splitValue(bytes, 4);
    expect(pieces.map((p) => [...p])).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it.each([
    { maxPayload: 1024 * 1024, chunk: 512 * 1024 },
    { maxPayload: 64 * 1024, chunk: 64 * 1024 - 4096 },
    { maxPayload: 2000, chunk: 1024 },
  ])('sizes chunks for a server max_payload of $maxPayload', ({ maxPayload, chunk }) => {
    expect(chunkBytesFor(maxPayload)).toBe(chunk);
  });

  it('names the App and generation of DesiredApp and RemoveApp only', () => {
    expect(appOf(create(ConnectResponseSchema, { message: { case: 'desiredApp', value: { appName: 'web', generation: 7n } } }))).toEqual({ appName: 'web', generation: 7n });
    expect(appOf(create(ConnectResponseSchema, { message: { case: 'removeApp', value: { appName: 'db', generation: 9n } } }))).toEqual({ appName: 'db', generation: 9n });
    expect(appOf(create(ConnectResponseSchema, { message: { case: 'welcome', value: {} } }))).toBeUndefined();
  });
});
