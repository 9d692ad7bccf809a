import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftPolicy, SyncMode } from '@flotilla/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import type { AcceptedApp, Tombstone } from '../core/desired-state.js';
import { silentLogger } from '../log.js';
import { CredentialStore } from './credential-store.js';
import { CACHE_FILE, DesiredStateCache, parseCacheFile, serializeCache } from './desired-state-cache.js';

const app = (appName: string, generation = 1n): AcceptedApp => ({
  kind: 'app',
  appName,
  appSet: 'set',
  revision: 'r1',
  generation,
  namespace: 'shop',
  manifestsJson: '[]',
  syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.HEAL, preserveResourcesOnDeletion: true },
});
const tombstone = (appName: string, removedAtUnixMs: number): Tombstone => ({
  kind: 'tombstone',
  appName,
  generation: 18_446_744_073_709_551_615n,
  preserveResources: false,
  removedAtUnixMs,
});

describe('DesiredStateCache', () => {
  let dir: string;
  const clock = new ManualClock();
  const open = (maxTombstones?: number) => DesiredStateCache.open({ stateDir: dir, log: silentLogger, clock, maxTombstones });

  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'flotilla-cache-')), 'state');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('starts empty when no file exists, creating the state dir owner-only', async () => {
    const cache = await open();
    expect(cache.entries()).toEqual([]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('round-trips apps and tombstones through the file, including 64-bit generations', async () => {
    const cache = await open();
    cache.set(app('b', 7n));
    cache.set(tombstone('a', 5));
    await cache.flush();
    const reopened = await open();
    expect(reopened.entries()).toEqual([tombstone('a', 5), app('b', 7n)]);
    expect(reopened.acceptedApps()).toEqual([app('b', 7n)]);
    expect(reopened.appCount).toBe(1);
  });

  it.each([
    { name: 'a policy with a project scope keeps it across a restart', syncPolicy: { ...app('a').syncPolicy, projectScope: { namespaces: ['team-*'], kinds: ['apps/*'], clusterScoped: false } } },
    {
      name: 'a policy with both scopes keeps them apart across a restart',
      syncPolicy: { ...app('a').syncPolicy, scope: { namespaces: [], kinds: [], clusterScoped: true }, projectScope: { namespaces: ['team-*'], kinds: [], clusterScoped: false } },
    },
    { name: 'a policy without a project scope comes back without one', syncPolicy: { ...app('a').syncPolicy, scope: { namespaces: ['shop'], kinds: ['ConfigMap'], clusterScoped: false } } },
  ])('$name', async ({ syncPolicy }) => {
    const cache = await open();
    cache.set({ ...app('a'), syncPolicy });
    await cache.flush();
    const reopened = await open();
    expect(reopened.get('a')).toEqual({ ...app('a'), syncPolicy });
  });

  it('writes the file with mode 0600 and leaves no temporary files behind', async () => {
    const cache = await open();
    cache.set(app('a'));
    await cache.flush();
    expect((await stat(join(dir, CACHE_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([CACHE_FILE]);
  });

  it('group-commits a burst of flushes so that the last state always lands', async () => {
    const cache = await open();
    const flushes: Promise<void>[] = [];
    for (let i = 1; i <= 20; i += 1) {
      cache.set(app('a', BigInt(i)));
      flushes.push(cache.flush());
    }
    await Promise.all(flushes);
    expect((await open()).get('a')?.generation).toBe(20n);
  });

  it('moves an unreadable file aside and starts empty', async () => {
    await open();
    await writeFile(join(dir, CACHE_FILE), '{ torn');
    const cache = await open();
    expect(cache.entries()).toEqual([]);
    expect((await readdir(dir)).some((name) => name.startsWith(`${CACHE_FILE}.corrupt-`))).toBe(true);
  });

  it('keeps at most the configured number of tombstones, forgetting the oldest removals', async () => {
    const cache = await open(2);
    cache.set(tombstone('a', 1));
    cache.set(tombstone('b', 2));
    cache.set(app('keep'));
    cache.set(tombstone('c', 3));
    expect(cache.entries().map((e) => e.appName)).toEqual(['b', 'c', 'keep']);
  });
});

describe('parseCacheFile', () => {
  it.each([
    { name: 'a file of another format version is foreign', text: '{"version":2,"entries":[]}' },
    { name: 'a file without entries is foreign', text: '{"version":1}' },
    { name: 'a JSON array is foreign', text: '[]' },
  ])('$name', ({ text }) => {
    expect(parseCacheFile(text)).toBeUndefined();
  });

  it.each([
    { name: 'an entry with a numeric generation is skipped', entry: { ...JSON.parse(serializeCache([app('a')])).entries[0], generation: 1 } },
    { name: 'an entry without a name is skipped', entry: { kind: 'tombstone', appName: '', generation: '1', preserveResources: false, removedAtUnixMs: 1 } },
    { name: 'an entry of an unknown kind is skipped', entry: { kind: 'other', appName: 'a', generation: '1' } },
    { name: 'an app entry without manifests is skipped', entry: { ...JSON.parse(serializeCache([app('a')])).entries[0], manifestsJson: undefined } },
    {
      name: 'an app entry with a malformed project scope is skipped rather than loosened',
      entry: { ...JSON.parse(serializeCache([app('a')])).entries[0], syncPolicy: { ...app('a').syncPolicy, projectScope: { namespaces: 'team-*', kinds: [], clusterScoped: false } } },
    },
  ])('$name', ({ entry }) => {
    expect(parseCacheFile(JSON.stringify({ version: 1, entries: [entry] }))).toEqual({ entries: [], skipped: 1 });
  });
});

describe('CredentialStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-cred-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads nothing before a credential is written', async () => {
    expect(await new CredentialStore(dir).read()).toBeUndefined();
  });

  it('stores the credential with mode 0600 and reads it back', async () => {
    const store = new CredentialStore(join(dir, 'nested'));
    await store.write('cred-1');
    await store.write('cred-2');
    expect(await store.read()).toBe('cred-2');
    expect((await stat(join(dir, 'nested', 'credential'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'nested', 'credential'), 'utf8')).toBe('cred-2\n');
  });
});
