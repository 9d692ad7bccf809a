import { Health, SyncStatus } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { buildAppStatus, type AppStatusInput, type ObjectObservation } from './app-status.js';
import type { ObjectRef } from './object-ref.js';

const ref = (kind: string, name: string): ObjectRef => ({ apiVersion: 'v1', group: '', version: 'v1', kind, namespace: 'shop', name });
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };
const applied = (overrides: Partial<ObjectObservation> = {}): ObjectObservation => ({ ref: ref('ConfigMap', 'c'), state: { kind: 'applied' }, live: configMap, ...overrides });
const input = (overrides: Partial<AppStatusInput>): AppStatusInput => ({
  appName: 'web',
  revision: 'r1',
  generation: 3n,
  phase: { kind: 'applied' },
  objects: [applied()],
  nowMs: 1_000,
  ...overrides,
});

describe('buildAppStatus', () => {
  it.each([
    { name: 'an applied App whose objects are healthy is HEALTHY and SYNCED', given: {}, health: Health.HEALTHY, sync: SyncStatus.SYNCED },
    { name: 'an App being applied is APPLYING', given: { phase: { kind: 'applying' } as const, objects: [applied({ state: { kind: 'pending' } })] }, health: Health.PROGRESSING, sync: SyncStatus.APPLYING },
    { name: 'an App whose objects are healthy but whose apply still runs (its post hooks) is PROGRESSING, not HEALTHY', given: { phase: { kind: 'applying', step: 'running 1 post hook' } as const }, health: Health.PROGRESSING, sync: SyncStatus.APPLYING },
    { name: 'an App being applied with a degraded object stays DEGRADED', given: { phase: { kind: 'applying' } as const, objects: [applied({ state: { kind: 'failed', message: 'refused' } })] }, health: Health.DEGRADED, sync: SyncStatus.APPLYING },
    { name: 'a failed apply is DEGRADED and FAILED even without resources', given: { phase: { kind: 'failed', message: 'refused' } as const, objects: [] }, health: Health.DEGRADED, sync: SyncStatus.FAILED },
    { name: 'a missing object is MISSING and OUT_OF_SYNC', given: { objects: [applied({ live: undefined })] }, health: Health.MISSING, sync: SyncStatus.OUT_OF_SYNC },
    { name: 'a drifted object makes the App OUT_OF_SYNC', given: { objects: [applied({ driftedFields: ['data.a'] })] }, health: Health.HEALTHY, sync: SyncStatus.OUT_OF_SYNC },
    { name: 'an object whose apply failed is DEGRADED', given: { phase: { kind: 'failed', message: 'conflict' } as const, objects: [applied({ state: { kind: 'failed', message: 'conflict' } })] }, health: Health.DEGRADED, sync: SyncStatus.FAILED },
  ])('$name', ({ given, health, sync }) => {
    const status = buildAppStatus(input(given));
    expect(status.health).toBe(health);
    expect(status.syncStatus).toBe(sync);
  });

  it('says what a running apply waits for when its objects are healthy', () => {
    expect(buildAppStatus(input({ phase: { kind: 'applying', step: 'running 1 post hook' } })).message).toBe('running 1 post hook');
  });

  it('always names the revision and generation it judged', () => {
    expect(buildAppStatus(input({}))).toMatchObject({ appName: 'web', revision: 'r1', generation: 3n, observedAtUnixMs: 1_000 });
  });

  it('lists drifted fields on the resource and summarises them in the message', () => {
    const status = buildAppStatus(input({ objects: [applied({ driftedFields: ['data.b', 'data.a'], driftNote: 'healing' })] }));
    expect(status.resources[0]).toMatchObject({ drifted: true, driftedFields: ['data.a', 'data.b'] });
    expect(status.resources[0]?.message).toContain('healing');
    expect(status.message).toBe('1 drifted: ConfigMap shop/c (data.a, data.b)');
  });

  it('names the failure in the message', () => {
    expect(buildAppStatus(input({ phase: { kind: 'failed', message: 'conflict with manager "x"' } })).message).toBe('conflict with manager "x"');
  });
});
