import { Health, SyncStatus } from '@flotilla/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/desired-state.js';
import { appSpec, configMap, createNamespace, readLive, startDriver, type DriverUnderTest } from './support/harness.js';
import { describeForTargets } from './support/suite.js';

const FAIL_ANNOTATION = 'sim.flotilla.dev/fail';

const job = (name: string, annotations: Record<string, string>): Manifest => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, annotations },
  spec: {
    backoffLimit: 0,
    template: { metadata: { labels: { job: name } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }] } },
  },
});
const uidOf = (object: Record<string, unknown> | undefined) => (object?.['metadata'] as { uid?: string } | undefined)?.uid;

describeForTargets("the Kubernetes driver's hook phases", (target, settings) => {
  let under: DriverUnderTest;

  beforeAll(async () => {
    under = await startDriver(target(), { tuning: { hookPollMs: 50, hookTimeoutMs: settings.settleMs * 4 } });
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  }, 30_000);

  async function namespaceFor(label: string): Promise<string> {
    const namespace = target().namespace(label);
    await createNamespace(target(), namespace);
    return namespace;
  }
  const jobPath = (ns: string, name: string) => `/apis/batch/v1/namespaces/${ns}/jobs/${name}`;
  const cmPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;

  it('applies the pre hooks and waits for them, then the ordinary objects, then the post hooks', async () => {
    const ns = await namespaceFor('hook-order');
    const spec = appSpec('hook-order', ns, [
      job('smoke', { 'flotilla.dev/phase': 'post' }),
      configMap('app', { color: 'blue' }),
      job('migrate', { 'flotilla.dev/phase': 'pre' }),
    ]);

    const seen: { health: Health; sync: SyncStatus; message: string }[] = [];
    const stop = under.driver.onStatusChange((status) => {
      if (status.appName === 'hook-order') seen.push({ health: status.health, sync: status.syncStatus, message: status.message });
    });
    try {
      expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });
    } finally {
      stop();
    }

    // The App was never reported HEALTHY while its apply ran: a rollout must not count it before its post hook is done.
    expect(seen.filter((status) => status.sync === SyncStatus.APPLYING && status.health === Health.HEALTHY)).toEqual([]);
    expect(seen).toContainEqual({ health: Health.PROGRESSING, sync: SyncStatus.APPLYING, message: 'running 1 post hook' });
    expect(seen.at(-1)).toMatchObject({ health: Health.HEALTHY, sync: SyncStatus.SYNCED });
    const migrate = await readLive(target(), jobPath(ns, 'migrate'));
    const app = await readLive(target(), cmPath(ns, 'app'));
    const smoke = await readLive(target(), jobPath(ns, 'smoke'));
    // Both hooks ran to completion before apply returned.
    for (const hook of [migrate, smoke]) expect((hook?.['status'] as { conditions?: { type: string; status: string }[] }).conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));
    // The order the cluster saw: the ConfigMap was created after the pre hook completed, the post hook after the ConfigMap.
    // The ConfigMap was written once, after the pre hook's completion was (resource versions only grow);
    // the post hook's first write came after the ConfigMap's.
    const version = (object: Record<string, unknown> | undefined) => BigInt((object?.['metadata'] as { resourceVersion: string }).resourceVersion);
    expect(version(app)).toBeGreaterThan(version(migrate));
    const writes = target().server?.requestLog().filter((entry) => entry.method === 'PATCH').map((entry) => entry.path);
    if (writes !== undefined) expect(writes.indexOf(jobPath(ns, 'smoke'))).toBeGreaterThan(writes.indexOf(cmPath(ns, 'app')));
    // The hooks are not tracked as the App's objects.
    expect(under.driver.status('hook-order')?.resources.map((r) => `${r.kind}/${r.name}`)).toEqual(['ConfigMap/app']);
  });

  it("runs the pre hooks in the App's own Namespace once the App has applied it", async () => {
    const ns = target().namespace('hook-own-ns');
    target().cleanupLater(`/api/v1/namespaces/${ns}`);
    const spec = appSpec('hook-own-ns', ns, [job('migrate', { 'flotilla.dev/phase': 'pre' }), configMap('app', { color: 'blue' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }]);

    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });
    const migrate = await readLive(target(), jobPath(ns, 'migrate'));
    expect((migrate?.['status'] as { conditions?: { type: string; status: string }[] }).conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));
    expect(await readLive(target(), cmPath(ns, 'app'))).toBeDefined();
  });

  it('fails the App at a failed pre hook and applies nothing else', async () => {
    const ns = await namespaceFor('hook-pre-fail');
    const spec = appSpec('hook-pre-fail', ns, [job('migrate', { 'flotilla.dev/phase': 'pre', [FAIL_ANNOTATION]: 'true' }), configMap('app', { color: 'blue' }), job('smoke', { 'flotilla.dev/phase': 'post' })]);

    const result = await under.driver.apply(spec);

    expect(result).toMatchObject({ kind: 'failed' });
    expect(result.kind === 'failed' && result.message).toMatch(/^pre hook Job\.batch .*\/migrate failed: Job failed: /);
    expect(await readLive(target(), cmPath(ns, 'app'))).toBeUndefined();
    expect(await readLive(target(), jobPath(ns, 'smoke'))).toBeUndefined();
    // Without hook-failed, the failed hook is kept for inspection.
    expect(await readLive(target(), jobPath(ns, 'migrate'))).toBeDefined();
  });

  it.each([
    { policy: 'hook-succeeded', fail: false, kept: false },
    { policy: 'hook-succeeded', fail: true, kept: true },
    { policy: 'hook-failed', fail: true, kept: false },
    { policy: 'hook-failed', fail: false, kept: true },
    { policy: 'before-hook-creation', fail: false, kept: true },
  ])('with delete policy $policy a hook that failed: $fail is kept: $kept', async ({ policy, fail, kept }) => {
    const app = `hook-${policy}-${fail ? 'fail' : 'ok'}`;
    const ns = await namespaceFor(app);
    const annotations = { 'flotilla.dev/phase': 'post', 'helm.sh/hook-delete-policy': policy, ...(fail ? { [FAIL_ANNOTATION]: 'true' } : {}) };

    const result = await under.driver.apply(appSpec(app, ns, [configMap('app', { color: 'blue' }), job('smoke', annotations)]));

    expect(result.kind).toBe(fail ? 'failed' : 'done');
    expect((await readLive(target(), jobPath(ns, 'smoke'))) !== undefined).toBe(kept);
  });

  it('replaces a kept hook on the next revision (before-hook-creation), and never prunes it as an ordinary object', async () => {
    const ns = await namespaceFor('hook-again');
    const first = await under.driver.apply(appSpec('hook-again', ns, [configMap('app', { color: 'blue' }), job('smoke', { 'flotilla.dev/phase': 'post' })]));
    expect(first).toEqual({ kind: 'done' });
    const before = uidOf(await readLive(target(), jobPath(ns, 'smoke')));
    expect(before).toBeDefined();

    // A new revision with the same hook: a Job's pod template is immutable, so applying over the old one would fail.
    const second = await under.driver.apply(appSpec('hook-again', ns, [configMap('app', { color: 'green' }), job('smoke', { 'flotilla.dev/phase': 'post' })], {}, 2n));

    expect(second).toEqual({ kind: 'done' });
    const after = uidOf(await readLive(target(), jobPath(ns, 'smoke')));
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('refuses an App whose hook annotations are invalid, before applying anything', async () => {
    const ns = await namespaceFor('hook-invalid');
    const result = await under.driver.apply(appSpec('hook-invalid', ns, [configMap('app', { color: 'blue' }), job('smoke', { 'flotilla.dev/phase': 'post-install' })]));

    expect(result).toMatchObject({ kind: 'failed' });
    expect(result.kind === 'failed' && result.message).toMatch(/hooks are invalid: .*flotilla\.dev\/phase must be one of pre, post; got "post-install"/);
    expect(await readLive(target(), cmPath(ns, 'app'))).toBeUndefined();
  });
});
