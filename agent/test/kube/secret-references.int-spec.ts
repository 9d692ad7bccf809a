import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/desired-state.js';
import { appSpec, configMap, createNamespace, readLive, startDriver, type DriverUnderTest } from './support/harness.js';
import { describeForTargets } from './support/suite.js';

// Secret references resolved by the Kubernetes driver from Secrets in the cluster, at apply time.

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const PASSWORD = `pa55-${randomBytes(8).toString('hex')}`;
const secretObject = (name: string, fields: Record<string, unknown>): Manifest => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', ...fields });

describeForTargets('secret references in the Kubernetes driver', (target) => {
  let under: DriverUnderTest;
  let ns: string;
  let other: string;

  beforeAll(async () => {
    under = await startDriver(target());
    ns = target().namespace('refs');
    other = target().namespace('refs-other');
    await createNamespace(target(), ns);
    await createNamespace(target(), other);
    for (const namespace of [ns, other]) {
      await target().client.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-source', namespace }, type: 'Opaque', data: { password: b64(PASSWORD), blob: 'AAEC/w==' } },
      });
    }
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  });

  it('applies the value of a Secret of the cluster in place of each reference: base64 in data, text elsewhere', async () => {
    const manifests = [
      secretObject('app-db', { data: { password: `((secret:${ns}/db-source/password))`, blob: `((secret:${ns}/db-source/blob))` } }),
      configMap('app-config', { url: `postgres://app:((secret:${ns}/db-source/password))@db:5432/app` }),
    ];
    expect(await under.driver.apply(appSpec('refs', ns, manifests))).toEqual({ kind: 'done' });
    expect((await readLive(target(), `/api/v1/namespaces/${ns}/secrets/app-db`))?.['data']).toEqual({ password: b64(PASSWORD), blob: 'AAEC/w==' });
    expect((await readLive(target(), `/api/v1/namespaces/${ns}/configmaps/app-config`))?.['data']).toEqual({ url: `postgres://app:${PASSWORD}@db:5432/app` });
    expect(JSON.stringify(under.driver.status('refs'), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))).not.toContain(PASSWORD);
  });

  it.each([
    { name: 'a missing key', reference: (n: string) => `((secret:${n}/db-source/user))`, message: 'has no key "user"' },
    { name: 'a missing Secret', reference: (n: string) => `((secret:${n}/nothing/password))`, message: 'not found' },
  ])('fails the App on $name, naming the reference and no value, and applies nothing', async ({ reference, message }) => {
    const app = `refs-missing-${message.length}`;
    const result = await under.driver.apply(appSpec(app, ns, [configMap(`${app}-config`, { v: reference(ns) })]));
    expect(result).toMatchObject({ kind: 'failed', message: expect.stringContaining(message) });
    expect(result.kind === 'failed' && result.message).toContain(reference(ns));
    expect(await readLive(target(), `/api/v1/namespaces/${ns}/configmaps/${app}-config`)).toBeUndefined();
  });

  it("refuses a reference to a Secret outside the App's namespaces, without reading it", async () => {
    const spec = appSpec('refs-outside', ns, [configMap('outside-config', { v: `((secret:${other}/db-source/password))` })], {
      scope: { namespaces: [ns], kinds: [], clusterScoped: false },
    });
    const result = await under.driver.apply(spec);
    expect(result).toMatchObject({ kind: 'failed', message: expect.stringContaining(`namespace "${other}" is outside the App's namespaces`) });
    expect(await readLive(target(), `/api/v1/namespaces/${ns}/configmaps/outside-config`)).toBeUndefined();
  });
});
