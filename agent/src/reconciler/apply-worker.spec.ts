import { DriftPolicy, SyncMode } from '@flotilla/proto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import type { AppSpec, AppStatus, ClusterDriver, DriverResult } from '../driver/cluster-driver.js';
import { silentLogger } from '../log.js';
import { ApplyWorker, type Work } from './apply-worker.js';

/** A driver whose operations finish only when the test says so. */
class ScriptedDriver implements ClusterDriver {
  readonly calls: string[] = [];
  readonly #pending = new Map<string, (result: DriverResult | Error) => void>();

  get running(): string[] {
    return [...this.#pending.keys()];
  }

  finish(label: string, result: DriverResult | Error = { kind: 'done' }): void {
    const resolve = this.#pending.get(label);
    if (resolve === undefined) throw new Error(`${label} is not running`);
    this.#pending.delete(label);
    resolve(result);
  }

  apply(app: AppSpec): Promise<DriverResult> {
    return this.#start(`apply ${app.appName}@${app.revision}`);
  }
  remove(appName: string): Promise<DriverResult> {
    return this.#start(`remove ${appName}`);
  }
  status(): AppStatus | undefined {
    return undefined;
  }
  onStatusChange(): () => void {
    return () => undefined;
  }
  async close(): Promise<void> {}

  #start(label: string): Promise<DriverResult> {
    this.calls.push(label);
    return new Promise((resolve, reject) => {
      this.#pending.set(label, (result) => (result instanceof Error ? reject(result) : resolve(result)));
    });
  }
}

const apply = (appName: string, revision: string): Work => ({
  kind: 'apply',
  spec: {
    appName,
    appSet: 's',
    revision,
    generation: 1n,
    namespace: 'ns',
    manifests: [],
    syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false },
  },
});

// Lets promise continuations run; no time passes.
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ApplyWorker', () => {
  let clock: ManualClock;
  let driver: ScriptedDriver;
  let worker: ApplyWorker;

  beforeEach(() => {
    clock = new ManualClock();
    driver = new ScriptedDriver();
    worker = new ApplyWorker({ driver, clock, random01: () => 0, log: silentLogger, concurrency: 2, maxKeys: 10, retry: { baseMs: 1000, maxMs: 8000 } });
  });

  it('calls the driver on a later turn, not inside enqueue', () => {
    worker.enqueue(apply('a', 'r1'));
    expect(driver.calls).toEqual([]);
    clock.advance(0);
    expect(driver.calls).toEqual(['apply a@r1']);
  });

  it('runs at most `concurrency` operations at once and starts the next as one ends', async () => {
    for (const name of ['a', 'b', 'c']) worker.enqueue(apply(name, 'r1'));
    clock.advance(0);
    expect(driver.running).toEqual(['apply a@r1', 'apply b@r1']);
    driver.finish('apply a@r1');
    await settle();
    expect(driver.running).toEqual(['apply b@r1', 'apply c@r1']);
  });

  it('never runs two operations for one App, and runs only the newest queued work after', async () => {
    worker.enqueue(apply('a', 'r1'));
    clock.advance(0);
    worker.enqueue(apply('a', 'r2'));
    worker.enqueue(apply('a', 'r3'));
    clock.advance(0);
    expect(driver.running).toEqual(['apply a@r1']);
    driver.finish('apply a@r1');
    await settle();
    expect(driver.calls).toEqual(['apply a@r1', 'apply a@r3']);
  });

  it.each([
    { name: 'a failure with a retry hint is retried after the backoff', result: { kind: 'failed', message: 'conflict', retryAfterMs: 10 } as DriverResult, retried: true },
    { name: 'a driver that throws is retried after the backoff', result: new Error('boom'), retried: true },
    { name: 'a failure without a retry hint is not retried', result: { kind: 'failed', message: 'invalid' } as DriverResult, retried: false },
  ])('$name', async ({ result, retried }) => {
    worker.enqueue(apply('a', 'r1'));
    clock.advance(0);
    driver.finish('apply a@r1', result);
    await settle();
    clock.advance(499);
    expect(driver.calls).toHaveLength(1);
    clock.advance(1);
    clock.advance(0);
    expect(driver.calls).toHaveLength(retried ? 2 : 1);
  });

  it('drops a pending retry when newer work for the App arrives', async () => {
    worker.enqueue(apply('a', 'r1'));
    clock.advance(0);
    driver.finish('apply a@r1', { kind: 'failed', message: 'conflict', retryAfterMs: 0 });
    await settle();
    worker.enqueue(apply('a', 'r2'));
    clock.advance(0);
    driver.finish('apply a@r2');
    await settle();
    clock.advance(10_000);
    expect(driver.calls).toEqual(['apply a@r1', 'apply a@r2']);
  });

  it('does not retry old work when newer work was queued while it ran', async () => {
    worker.enqueue(apply('a', 'r1'));
    clock.advance(0);
    worker.enqueue(apply('a', 'r2'));
    driver.finish('apply a@r1', { kind: 'failed', message: 'conflict', retryAfterMs: 0 });
    await settle();
    clock.advance(0);
    driver.finish('apply a@r2');
    await settle();
    clock.advance(10_000);
    expect(driver.calls).toEqual(['apply a@r1', 'apply a@r2']);
  });

  it('refuses work for a new App beyond its bound', () => {
    const small = new ApplyWorker({ driver, clock, random01: () => 0, log: silentLogger, concurrency: 1, maxKeys: 1, retry: { baseMs: 1, maxMs: 1 } });
    expect(small.enqueue(apply('a', 'r1'))).toBe('queued');
    expect(small.hasRoomFor('b')).toBe(false);
    expect(small.enqueue(apply('b', 'r1'))).toBe('refused');
  });

  it('stop waits for running work, drops queued work and retries, and leaves no timer', async () => {
    for (const name of ['a', 'b', 'c', 'd']) worker.enqueue(apply(name, 'r1'));
    clock.advance(0);
    driver.finish('apply b@r1', { kind: 'failed', message: 'x', retryAfterMs: 5 });
    await settle();
    expect(driver.running).toEqual(['apply a@r1', 'apply c@r1']);
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    driver.finish('apply a@r1');
    driver.finish('apply c@r1');
    await stopping;
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    expect(driver.calls).toEqual(['apply a@r1', 'apply b@r1', 'apply c@r1']);
    expect(worker.enqueue(apply('e', 'r1'))).toBe('refused');
  });

  it('is idle only when nothing is queued, running or waiting to retry', async () => {
    expect(worker.isIdle()).toBe(true);
    worker.enqueue(apply('a', 'r1'));
    expect(worker.isIdle()).toBe(false);
    clock.advance(0);
    driver.finish('apply a@r1');
    await settle();
    expect(worker.isIdle()).toBe(true);
  });
});
