import { describe, expect, it } from 'vitest';
import { REDACTED, redactParameters } from './redact';

describe('redactParameters', () => {
  it.each([
    ['password', { password: 'hunter22' }, { password: REDACTED }],
    ['a nested secret key, whatever its case', { db: { adminPassword: 'hunter22', host: 'db' } }, { db: { adminPassword: REDACTED, host: 'db' } }],
    ['a whole subtree under a token key', { apiToken: { value: 'abc', ttl: 5 } }, { apiToken: REDACTED }],
    ['a credential', { cloudCredential: 'x' }, { cloudCredential: REDACTED }],
    ['a key', { sshKey: 'ssh-ed25519 AAAA' }, { sshKey: REDACTED }],
    ['snake and kebab case', { db_password: 'x', 'api-token': 'y', private_key: 'z' }, { db_password: REDACTED, 'api-token': REDACTED, private_key: REDACTED }],
    ['nothing secret', { replicas: 3, image: 'web:1' }, { replicas: 3, image: 'web:1' }],
    ['not a key whose last word is not a secret', { 'argocd.argoproj.io/secret-type': 'cluster', tokenTtl: '1h', passwordPolicy: 'strict' }, { 'argocd.argoproj.io/secret-type': 'cluster', tokenTtl: '1h', passwordPolicy: 'strict' }],
    ["not a selector's key", { matchExpressions: [{ key: 'region', operator: 'In', values: ['eu'] }] }, { matchExpressions: [{ key: 'region', operator: 'In', values: ['eu'] }] }],
  ])('redacts %s', (_name, params, want) => {
    expect(redactParameters(params)).toEqual(want);
  });

  it("redacts only the values of secret keys: Argo's cluster-secret label leaves every other `cluster` alone", () => {
    const params = { labels: { 'argocd.argoproj.io/secret-type': 'cluster', addons: 'cluster-addons' }, values: { dbPassword: 'hunter22' }, name: 'cluster-addons' };
    expect(redactParameters(params)).toEqual({ labels: { 'argocd.argoproj.io/secret-type': 'cluster', addons: 'cluster-addons' }, values: { dbPassword: REDACTED }, name: 'cluster-addons' });
  });

  it('a secret value copied under another key is redacted there too, even inside a longer string', () => {
    const params = { values: { dbPassword: 's3cr3t-pw' }, url: 'postgres://app:s3cr3t-pw@db/app', copy: 's3cr3t-pw' };
    expect(redactParameters(params)).toEqual({ values: { dbPassword: REDACTED }, url: `postgres://app:${REDACTED}@db/app`, copy: REDACTED });
  });

  it('a short secret is redacted only where it is a whole value', () => {
    expect(redactParameters({ pin: { secret: '42' }, note: 'answer 42', same: '42' })).toEqual({ pin: { secret: REDACTED }, note: 'answer 42', same: REDACTED });
  });

  it('values the hub knows are secret are redacted wherever they appear', () => {
    expect(redactParameters({ a: 'abc-known-value-xyz', b: ['known-value'] }, ['known-value'])).toEqual({ a: `abc-${REDACTED}-xyz`, b: [REDACTED] });
  });

  it('a reference to a Secret in the cluster is shown as written, even under a secret key', () => {
    const reference = '((secret:shop/db-source/password))';
    expect(redactParameters({ dbPassword: reference, url: `postgres://app:${reference}@db` })).toEqual({ dbPassword: reference, url: `postgres://app:${reference}@db` });
  });

  it('hub-issued tokens are redacted by their shape', () => {
    expect(redactParameters({ note: 'use flt_boot_AbC-123_x please' })).toEqual({ note: `use ${REDACTED} please` });
  });

  it('never mutates its input', () => {
    const params = { password: 'hunter22', list: [{ token: 'x' }] };
    const copy = structuredClone(params);
    redactParameters(params);
    expect(params).toEqual(copy);
  });
});
