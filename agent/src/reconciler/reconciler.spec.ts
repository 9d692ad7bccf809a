import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftPolicy, Health, SyncMode, SyncStatus } from '@flotilla/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountingDriver } from '../../test/support/counting-driver.js';
import { ManualClock } from '../../test/support/manual-clock.js';
import { manifestsFor } from '../../test/support/manifests.js';
import { DesiredStateCache } from '../cache/desired-state-cache.js';
import type { AckContent, IncomingDesiredApp } from '../core/desired-state.js';
import type { ReportContent } from '../core/health/index.js';
import { silentLogger } from '../log.js';
import { SimDriver } from '../sim/sim-driver.js';
import { Reconciler } from './reconciler.js';

const v1 = manifestsFor('web', 'v1');
const v2 = manifestsFor('web', 'v2');
const desired = (generation: bigint, release = v1, appName = 'web'): IncomingDesiredApp => ({
  appName,
  appSet: 'web-set',
  revision: release.revision,
  generation,
  namespace: 'shop',
  manifestsJson: release.manifestsJson,
});
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Reconciler', () => {
  let dir: string;
  let clock: ManualClock;
  let driver: CountingDriver;
  let cache: DesiredStateCache;
  let reconciler: Reconciler;
  let acks: AckContent[];
  let reports: ReportContent[];
  const sendAck = (ack: AckContent) => acks.push(ack);

  async function build(options: { maxApps?: number } = {}): Promise<void> {
    cache = await DesiredStateCache.open({ stateDir: dir, log: silentLogger, clock });
    driver = new CountingDriver(new SimDriver({ healthyAfterMs: 1000, failApps: [], clock }));
    reconciler = new Reconciler({ cache, driver, clock, random01: () => 0, log: silentLogger, ...options });
    reconciler.onReport((report) => reports.push(report));
    reconciler.start();
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-reconciler-'));
    clock = new ManualClock();
    acks = [];
    reports = [];
    await build();
  });
  afterEach(async () => {
    await reconciler.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('acks and persists an accepted DesiredApp before the driver sees it, then reports it to HEALTHY', async () => {
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    expect(acks).toEqual([{ appName: 'web', revision: v1.revision, generation: 1n, accepted: true, error: '' }]);
    expect(driver.applied).toEqual([]);
    expect((await DesiredStateCache.open({ stateDir: dir, log: silentLogger, clock })).get('web')?.generation).toBe(1n);
    clock.advance(0);
    clock.advance(1000);
    expect(reports.map((r) => `${r.revision === v1.revision ? 'v1' : '?'}#${r.generation} ${Health[r.health]}/${SyncStatus[r.syncStatus]}`)).toEqual([
      'v1#1 PROGRESSING/APPLYING',
      'v1#1 PROGRESSING/SYNCED',
      'v1#1 HEALTHY/SYNCED',
    ]);
  });

  it.each([
    { name: 'a duplicate DesiredApp is re-acked without a re-apply', second: desired(2n), acks: 2, applies: 1 },
    { name: 'a stale DesiredApp is ignored without an ack', second: desired(1n, v2), acks: 1, applies: 1 },
    { name: 'a tampered DesiredApp is refused and nothing is applied', second: { ...desired(3n, v2), revision: v1.revision }, acks: 2, applies: 1 },
    { name: 'a newer DesiredApp is applied', second: desired(3n, v2), acks: 2, applies: 2 },
  ])('$name', async ({ second, acks: ackCount, applies }) => {
    await reconciler.handleDesiredApp(desired(2n), sendAck);
    clock.advance(0);
    await reconciler.handleDesiredApp(second, sendAck);
    clock.advance(0);
    expect(acks).toHaveLength(ackCount);
    expect(driver.applied).toHaveLength(applies);
    expect(reconciler.inventory()).toEqual([{ appName: 'web', revision: applies === 2 ? v2.revision : v1.revision, generation: applies === 2 ? 3n : 2n }]);
  });

  it('removes an App on RemoveApp, leaves it out of the inventory, and ignores a late release', async () => {
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    clock.advance(0);
    await reconciler.handleRemoveApp({ appName: 'web', generation: 2n, preserveResources: false }, sendAck);
    clock.advance(0);
    await settle();
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    expect(acks.map((a) => `${a.generation}:${a.accepted}`)).toEqual(['1:true', '2:true']);
    expect(driver.removed).toEqual(['web']);
    expect(driver.status('web')).toBeUndefined();
    expect(reconciler.inventory()).toEqual([]);
  });

  it('re-applies cached Apps and repeats cached removals when started again', async () => {
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    await reconciler.handleDesiredApp(desired(4n, v1, 'api'), sendAck);
    await reconciler.handleRemoveApp({ appName: 'api', generation: 5n, preserveResources: true }, sendAck);
    await reconciler.stop();
    await build();
    clock.advance(0);
    await settle();
    clock.advance(1000);
    expect(driver.applied).toEqual(['web#1']);
    expect(driver.removed).toEqual(['api']);
    expect(driver.status('web')).toMatchObject({ revision: v1.revision, health: Health.HEALTHY });
  });

  it('sends the latest report of every judged App for a catch-up, and nothing twice on its own', async () => {
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    clock.advance(0);
    clock.advance(1000);
    const count = reports.length;
    const syncPolicy = { mode: SyncMode.CREATE_UPDATE, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false };
    await driver.apply({ appName: 'web', appSet: 'web-set', revision: v1.revision, generation: 1n, namespace: 'shop', manifests: v1.manifests, syncPolicy });
    expect(reports).toHaveLength(count);
    expect(reconciler.currentReports()).toEqual([expect.objectContaining({ appName: 'web', revision: v1.revision, health: Health.HEALTHY })]);
  });

  it.each([
    { change: 'nothing but the time it was observed', edit: {}, observedLater: true, reported: false },
    { change: "a resource's drifted field paths", edit: { driftedFields: ['data.color', 'data.size'] }, observedLater: false, reported: true },
    { change: "a resource's message", edit: { message: 'changed by kubectl' }, observedLater: false, reported: true },
    {
      change: "the live value of a resource's drifted field",
      edit: { driftedValues: [{ path: 'data.color', expected: '"blue"', live: '"green"', redacted: false }] },
      observedLater: false,
      reported: true,
    },
  ])('reports a judged App again when $change changes: $reported', async ({ edit, observedLater, reported }) => {
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    clock.advance(0);
    clock.advance(1000);
    const judged = driver.status('web');
    if (judged === undefined) throw new Error('the App was not judged');
    const drifted = {
      ...judged,
      resources: judged.resources.map((r) => ({ ...r, drifted: true, driftedFields: ['data.color'], driftedValues: [{ path: 'data.color', expected: '"blue"', live: '"red"', redacted: false }] })),
    };
    driver.emitStatus(drifted);
    const count = reports.length;
    driver.emitStatus({
      ...drifted,
      observedAtUnixMs: drifted.observedAtUnixMs + (observedLater ? 5000 : 0),
      resources: drifted.resources.map((r) => ({ ...r, ...edit })),
    });
    expect(reports.length - count).toBe(reported ? 1 : 0);
  });

  it('refuses a new App when it already holds the maximum number of Apps', async () => {
    await reconciler.stop();
    await build({ maxApps: 1 });
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    await reconciler.handleDesiredApp(desired(1n, v1, 'other'), sendAck);
    await reconciler.handleDesiredApp(desired(2n, v2), sendAck);
    expect(acks.map((a) => `${a.appName}:${a.accepted}`)).toEqual(['web:true', 'other:false', 'web:true']);
    expect(acks[1]?.error).toContain('maximum of 1 Apps');
  });

  it('is idle once the driver has done everything queued', async () => {
    await reconciler.handleDesiredApp(desired(1n), sendAck);
    expect(reconciler.isIdle()).toBe(false);
    clock.advance(0);
    await settle();
    expect(reconciler.isIdle()).toBe(true);
  });
});
