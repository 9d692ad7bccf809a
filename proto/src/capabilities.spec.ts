import { describe, expect, it } from 'vitest';
import { CAPABILITY_LIMITS, checkCapabilities } from './capabilities.js';

describe('cluster capabilities', () => {
  it.each([
    { version: 'v1.35.0', entries: ['apps/v1/Deployment', 'v1', 'apps/v1', 'v1'], result: { ok: true, capabilities: { kubernetesVersion: 'v1.35.0', apiVersions: ['apps/v1', 'apps/v1/Deployment', 'v1'] } } },
    { version: 'v1.29.3-eks-adc7111', entries: ['monitoring.coreos.com/v1', 'autoscaling/v2beta2/HorizontalPodAutoscaler'], result: { ok: true } },
    { version: 'v1.28.5+k3s1', entries: [], result: { ok: true } },
    { version: '1.35', entries: [], result: { ok: false } },
    { version: 'v1.35.0 --set x=y', entries: [], result: { ok: false } },
    { version: 'v1.35.0', entries: ['--api-versions=x'], result: { ok: false } },
    { version: 'v1.35.0', entries: ['Apps/v1'], result: { ok: false } },
    { version: 'v1.35.0', entries: ['apps/v1/Deploy ment'], result: { ok: false } },
    { version: 'v1.35.0', entries: ['apps/v1/Deployment/extra'], result: { ok: false } },
  ])('$version with $entries is ok: $result.ok', ({ version, entries, result }) => {
    expect(checkCapabilities(version, entries)).toMatchObject(result);
  });

  it('refuses more entries than the cap, whole', () => {
    const entries = Array.from({ length: CAPABILITY_LIMITS.maxApiVersions + 1 }, (_, i) => `g${i}.example.com/v1`);
    const check = checkCapabilities('v1.35.0', entries);
    expect(check).toEqual({ ok: false, problem: `${CAPABILITY_LIMITS.maxApiVersions + 1} API versions exceed the cap of ${CAPABILITY_LIMITS.maxApiVersions}.` });
  });

  it('refuses an entry longer than the cap and quotes none of it beyond a bounded piece', () => {
    const long = `${'a'.repeat(CAPABILITY_LIMITS.maxApiVersionChars)}/v1`;
    const check = checkCapabilities('v1.35.0', [long]);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem.length).toBeLessThan(200);
  });

  it('refuses entries whose total size is over the byte cap', () => {
    const entries = Array.from({ length: CAPABILITY_LIMITS.maxApiVersions }, (_, i) => `${'g'.repeat(60)}${i}.example.com/v1/${'K'.repeat(40)}`);
    const check = checkCapabilities('v1.35.0', entries);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(/over the cap of 262144/);
  });
});
