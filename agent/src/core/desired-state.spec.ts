import { DriftPolicy, SyncMode, canonicalJson, revisionOf } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { manifestsFor } from '../../test/support/manifests.js';
import {
  decideDesiredApp,
  decideRemoveApp,
  inventoryOf,
  normalizeSyncPolicy,
  tombstonesToPrune,
  verifyManifests,
  type AcceptedApp,
  type DesiredEntry,
  type IncomingDesiredApp,
  type Tombstone,
} from './desired-state.js';

const v1 = manifestsFor('web', 'v1');
const v2 = manifestsFor('web', 'v2');
const policy = { mode: SyncMode.SYNC, drift: DriftPolicy.HEAL, preserveResourcesOnDeletion: false };

function desired(generation: bigint, release = v1, overrides: Partial<IncomingDesiredApp> = {}): IncomingDesiredApp {
  return {
    appName: 'web',
    appSet: 'web-set',
    revision: release.revision,
    generation,
    namespace: 'shop',
    manifestsJson: release.manifestsJson,
    syncPolicy: policy,
    ...overrides,
  };
}

function held(generation: bigint, release = v1): AcceptedApp {
  const decision = decideDesiredApp(undefined, desired(generation, release));
  if (decision.kind !== 'accept') throw new Error('fixture must be accepted');
  return decision.entry;
}

function tombstone(generation: bigint): Tombstone {
  return { kind: 'tombstone', appName: 'web', generation, preserveResources: false, removedAtUnixMs: 1000 };
}

describe('decideDesiredApp', () => {
  it.each([
    { name: 'a DesiredApp for an App never held is accepted', current: undefined, incoming: desired(1n), want: 'accept' },
    { name: 'a DesiredApp with a newer generation is accepted', current: held(1n), incoming: desired(2n, v2), want: 'accept' },
    { name: 'a newer generation of the same revision is accepted (a re-release)', current: held(1n), incoming: desired(2n), want: 'accept' },
    { name: 'a DesiredApp with an older generation is ignored', current: held(5n, v2), incoming: desired(4n), want: 'ignore' },
    { name: 'a DesiredApp with the held generation and revision is a duplicate', current: held(3n), incoming: desired(3n), want: 'duplicate' },
    { name: 'a DesiredApp newer than a tombstone brings the App back', current: tombstone(4n), incoming: desired(5n), want: 'accept' },
    { name: 'a DesiredApp older than a tombstone is ignored', current: tombstone(4n), incoming: desired(3n), want: 'ignore' },
    { name: 'a DesiredApp with the generation of a tombstone is rejected', current: tombstone(4n), incoming: desired(4n), want: 'reject' },
    { name: 'a DesiredApp reusing a generation for another revision is rejected', current: held(3n), incoming: desired(3n, v2), want: 'reject' },
    { name: 'a DesiredApp whose revision does not match its manifests is rejected', current: undefined, incoming: desired(1n, v1, { revision: v2.revision }), want: 'reject' },
    { name: 'a DesiredApp with manifests that are not JSON is rejected', current: undefined, incoming: desired(1n, v1, { manifestsJson: '[{' }), want: 'reject' },
    { name: 'a DesiredApp with manifests that are not an array is rejected', current: undefined, incoming: desired(1n, v1, { manifestsJson: '{}' }), want: 'reject' },
    { name: 'a DesiredApp without an app name is rejected', current: undefined, incoming: desired(1n, v1, { appName: '' }), want: 'reject' },
    { name: 'a DesiredApp with generation 0 is rejected as missing', current: undefined, incoming: desired(0n), want: 'reject' },
    { name: 'a stale DesiredApp is ignored even when its content is broken', current: held(5n), incoming: desired(2n, v1, { manifestsJson: 'nope' }), want: 'ignore' },
  ])('$name', ({ current, incoming, want }) => {
    expect(decideDesiredApp(current, incoming).kind).toBe(want);
  });

  it('acks an accepted DesiredApp with its revision and generation', () => {
    const decision = decideDesiredApp(held(1n), desired(2n, v2));
    expect(decision).toMatchObject({
      kind: 'accept',
      ack: { appName: 'web', revision: v2.revision, generation: 2n, accepted: true, error: '' },
      entry: { kind: 'app', appName: 'web', appSet: 'web-set', revision: v2.revision, generation: 2n, namespace: 'shop', syncPolicy: policy },
      manifests: v2.manifests,
    });
  });

  it('re-acks a duplicate as accepted', () => {
    expect(decideDesiredApp(held(3n), desired(3n))).toEqual({
      kind: 'duplicate',
      ack: { appName: 'web', revision: v1.revision, generation: 3n, accepted: true, error: '' },
    });
  });

  it('refuses a tampered revision with an error that names both hashes briefly', () => {
    const decision = decideDesiredApp(undefined, desired(1n, v1, { revision: v2.revision }));
    expect(decision.kind).toBe('reject');
    if (decision.kind !== 'reject') return;
    expect(decision.ack).toMatchObject({ accepted: false, revision: v2.revision, generation: 1n });
    expect(decision.ack.error).toContain('revision mismatch');
    expect(decision.ack.error).toContain(v1.revision.slice(0, 12));
    expect(decision.ack.error).not.toContain(v1.revision);
  });

  it('does not change what it was given', () => {
    const current = held(1n);
    const snapshot = structuredClone(current);
    decideDesiredApp(current, desired(2n, v2));
    expect(current).toEqual(snapshot);
  });
});

describe('decideRemoveApp', () => {
  const removal = (generation: bigint) => ({ appName: 'web', generation, preserveResources: true });
  it.each([
    { name: 'a RemoveApp newer than the held App removes it', current: held(1n) as DesiredEntry, generation: 2n, want: 'remove' },
    { name: 'a RemoveApp for an App never held still leaves a tombstone', current: undefined, generation: 1n, want: 'remove' },
    { name: 'a RemoveApp older than the held App is ignored', current: held(3n) as DesiredEntry, generation: 2n, want: 'ignore' },
    { name: 'a RemoveApp with the generation of the held release is rejected', current: held(3n) as DesiredEntry, generation: 3n, want: 'reject' },
    { name: 'a RemoveApp repeating the tombstone generation is a duplicate', current: tombstone(3n) as DesiredEntry, generation: 3n, want: 'duplicate' },
    { name: 'a RemoveApp newer than a tombstone moves the tombstone on', current: tombstone(3n) as DesiredEntry, generation: 4n, want: 'remove' },
    { name: 'a RemoveApp with generation 0 is rejected as missing', current: undefined, generation: 0n, want: 'reject' },
  ])('$name', ({ current, generation, want }) => {
    expect(decideRemoveApp(current, removal(generation), 5000).kind).toBe(want);
  });

  it('stamps the tombstone with the removal time and the preserve flag, and acks without a revision', () => {
    expect(decideRemoveApp(held(1n), removal(2n), 5000)).toEqual({
      kind: 'remove',
      entry: { kind: 'tombstone', appName: 'web', generation: 2n, preserveResources: true, removedAtUnixMs: 5000 },
      ack: { appName: 'web', revision: '', generation: 2n, accepted: true, error: '' },
    });
  });
});

describe('verifyManifests', () => {
  it.each([
    { name: 'an empty array verifies against its own hash', json: '[]', revision: revisionOf([]), ok: true, error: '' },
    { name: 'key order does not matter to the hash', json: '[{"b":1,"a":2}]', revision: revisionOf([{ a: 2, b: 1 }]), ok: true, error: '' },
    { name: 'manifests over the size limit are refused before parsing', json: `[${'1,'.repeat(40)}1]`, revision: 'x', ok: false, error: 'over the limit' },
    { name: 'an array of non-objects is refused', json: '[{},3]', revision: 'x', ok: false, error: 'manifests[1] is not a JSON object' },
    { name: 'a number JSON can parse but not represent is refused', json: '[{"n":1e999}]', revision: 'x', ok: false, error: 'cannot be hashed' },
    { name: 'null is not an array', json: 'null', revision: 'x', ok: false, error: 'JSON array' },
  ])('$name', ({ json, revision, ok, error }) => {
    const result = verifyManifests(json, revision, 64);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.error).toContain(error);
  });

  it('returns the parsed manifests', () => {
    const result = verifyManifests(canonicalJson([{ kind: 'ConfigMap' }]), revisionOf([{ kind: 'ConfigMap' }]));
    expect(result).toEqual({ ok: true, manifests: [{ kind: 'ConfigMap' }] });
  });
});

describe('normalizeSyncPolicy', () => {
  it.each([
    { name: 'a missing policy becomes create-update with drift reported', input: undefined, want: { mode: SyncMode.CREATE_UPDATE, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false } },
    { name: 'unspecified values become the non-destructive defaults', input: { mode: SyncMode.UNSPECIFIED, drift: DriftPolicy.UNSPECIFIED }, want: { mode: SyncMode.CREATE_UPDATE, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false } },
    { name: 'explicit values are kept', input: policy, want: policy },
    {
      name: 'the App and project scopes are kept apart',
      input: { ...policy, scope: { namespaces: ['shop'], kinds: [], clusterScoped: false }, projectScope: { namespaces: ['shop', 'team-*'], kinds: ['ConfigMap'], clusterScoped: true } },
      want: { ...policy, scope: { namespaces: ['shop'], kinds: [], clusterScoped: false }, projectScope: { namespaces: ['shop', 'team-*'], kinds: ['ConfigMap'], clusterScoped: true } },
    },
    { name: 'an absent project scope stays absent', input: { ...policy, projectScope: undefined }, want: policy },
  ])('$name', ({ input, want }) => {
    expect(normalizeSyncPolicy(input)).toEqual(want);
  });
});

describe('inventoryOf', () => {
  it('lists held Apps sorted by name and leaves tombstones out', () => {
    const b = { ...held(2n), appName: 'b' };
    const a = { ...held(7n, v2), appName: 'a' };
    expect(inventoryOf([b, { ...tombstone(3n), appName: 'c' }, a])).toEqual([
      { appName: 'a', revision: v2.revision, generation: 7n },
      { appName: 'b', revision: v1.revision, generation: 2n },
    ]);
  });
});

describe('tombstonesToPrune', () => {
  const at = (appName: string, removedAtUnixMs: number): Tombstone => ({ ...tombstone(1n), appName, removedAtUnixMs });
  it.each([
    { name: 'nothing is pruned under the limit', entries: [at('a', 1), at('b', 2)], max: 2, want: [] },
    { name: 'the oldest removals are pruned first', entries: [at('a', 30), at('b', 10), at('c', 20)], max: 1, want: ['b', 'c'] },
    { name: 'ties on removal time are broken by name', entries: [at('z', 5), at('y', 5)], max: 1, want: ['y'] },
    { name: 'held Apps never count as tombstones', entries: [held(1n), at('b', 1)], max: 1, want: [] },
  ])('$name', ({ entries, max, want }) => {
    expect(tombstonesToPrune(entries, max)).toEqual(want);
  });
});
