import { Health, LIMITS, SyncStatus } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { REPORT_LIMITS, aggregateHealth, buildReportContent, summarizeResources, type ReportLimits, type ResourceHealth } from './report.js';

const H = Health;

function resource(name: string, health: Health, kind = 'Deployment', message = ''): ResourceHealth {
  return { apiVersion: 'apps/v1', kind, namespace: 'shop', name, health, message, drifted: false };
}

describe('aggregateHealth', () => {
  it.each([
    { name: 'no resources is healthy', healths: [], want: H.HEALTHY },
    { name: 'all healthy is healthy', healths: [H.HEALTHY, H.HEALTHY], want: H.HEALTHY },
    { name: 'degraded beats missing', healths: [H.MISSING, H.DEGRADED, H.HEALTHY], want: H.DEGRADED },
    { name: 'missing beats progressing', healths: [H.PROGRESSING, H.MISSING], want: H.MISSING },
    { name: 'progressing beats suspended', healths: [H.SUSPENDED, H.PROGRESSING], want: H.PROGRESSING },
    { name: 'suspended beats unknown', healths: [H.UNKNOWN, H.SUSPENDED], want: H.SUSPENDED },
    { name: 'unknown beats healthy', healths: [H.HEALTHY, H.UNKNOWN], want: H.UNKNOWN },
    { name: 'an unspecified health counts as unknown', healths: [H.HEALTHY, H.UNSPECIFIED], want: H.UNKNOWN },
  ])('$name', ({ healths, want }) => {
    expect(aggregateHealth(healths)).toBe(want);
  });
});

function limits(overrides: Partial<ReportLimits>): ReportLimits {
  return { ...REPORT_LIMITS, ...overrides };
}

describe('buildReportContent', () => {
  const base = {
    appName: 'web',
    revision: 'abc',
    generation: 4n,
    health: H.DEGRADED,
    syncStatus: SyncStatus.SYNCED,
    message: '',
    observedAtUnixMs: 1_700_000_000_123,
  };

  it('names the revision and generation judged and converts the time to an int64', () => {
    const report = buildReportContent({ ...base, resources: [] });
    expect(report).toMatchObject({ appName: 'web', revision: 'abc', generation: 4n, observedAtUnixMs: 1_700_000_000_123n, resourcesTruncated: false });
  });

  it('keeps the worst resources when it must cut, and says it cut', () => {
    const resources = [resource('a', H.HEALTHY), resource('b', H.DEGRADED), resource('c', H.PROGRESSING), resource('d', H.HEALTHY)];
    const report = buildReportContent({ ...base, resources }, limits({ maxResources: 2, maxTextChars: 100 }));
    expect(report.resources.map((r) => r.name)).toEqual(['b', 'c']);
    expect(report.resourcesTruncated).toBe(true);
  });

  it('does not mark an exact fit as truncated', () => {
    const report = buildReportContent({ ...base, resources: [resource('a', H.HEALTHY)] }, limits({ maxResources: 1, maxTextChars: 100 }));
    expect(report.resourcesTruncated).toBe(false);
  });

  it.each([
    { name: 'a long App message is cut with a marker', message: 'x'.repeat(500), want: /^x+…\[truncated\]$/ },
    { name: 'a short App message is kept', message: 'rollout stuck', want: /^rollout stuck$/ },
    { name: 'an empty App message is derived from the resources', message: '', want: /^1 of 2 resources not healthy: 1 DEGRADED$/ },
  ])('$name', ({ message, want }) => {
    const report = buildReportContent({ ...base, message, resources: [resource('a', H.HEALTHY), resource('b', H.DEGRADED)] }, limits({ maxResources: 10, maxTextChars: 100 }));
    expect(report.message).toMatch(want);
    expect(report.message.length).toBeLessThanOrEqual(100);
  });

  it('cuts long resource messages too', () => {
    const report = buildReportContent({ ...base, resources: [resource('a', H.DEGRADED, 'Pod', 'y'.repeat(300))] }, limits({ maxResources: 10, maxTextChars: 50 }));
    expect(report.resources[0]?.message.length).toBe(50);
  });

  it('takes its default bounds from the protocol limits', () => {
    expect(REPORT_LIMITS).toMatchObject({ maxResources: LIMITS.maxResourcesPerReport, maxTextChars: LIMITS.maxTextChars, maxDriftedFields: LIMITS.maxDriftedFields });
  });

  it('carries the drifted field paths of each resource, sorted and without duplicates', () => {
    const drifted = { ...resource('web', H.HEALTHY), drifted: true, driftedFields: ['spec.template.spec.containers[name=web].image', 'spec.replicas', 'spec.replicas'] };
    expect(buildReportContent({ ...base, resources: [drifted] }).resources[0]).toMatchObject({
      drifted: true,
      driftedFields: ['spec.replicas', 'spec.template.spec.containers[name=web].image'],
    });
  });

  it('gives a resource that names no drifted fields an empty list', () => {
    expect(buildReportContent({ ...base, resources: [resource('web', H.HEALTHY)] }).resources[0]?.driftedFields).toEqual([]);
  });

  it('keeps at most maxDriftedFields paths per resource, the first ones in sorted order', () => {
    const paths = Array.from({ length: 40 }, (_, i) => `data.key${String(i).padStart(2, '0')}`).reverse();
    const report = buildReportContent({ ...base, resources: [{ ...resource('cm', H.HEALTHY, 'ConfigMap'), drifted: true, driftedFields: paths }] }, limits({ maxDriftedFields: 32 }));
    const kept = report.resources[0]?.driftedFields ?? [];
    expect(kept).toHaveLength(32);
    expect(kept[0]).toBe('data.key00');
    expect(kept.at(-1)).toBe('data.key31');
  });

  it('cuts an overlong field path with a marker and drops empty ones', () => {
    const long = `data.${'k'.repeat(400)}`;
    const report = buildReportContent({ ...base, resources: [{ ...resource('cm', H.HEALTHY, 'ConfigMap'), drifted: true, driftedFields: [long, ''] }] }, limits({ maxFieldPathChars: 64 }));
    const [path, ...rest] = report.resources[0]?.driftedFields ?? [];
    expect(path).toMatch(/^data\.k+…\[truncated\]$/);
    expect(path?.length).toBe(64);
    expect(rest).toEqual([]);
  });

  it('sorts resources of equal health by kind, namespace and name', () => {
    const resources = [resource('b', H.HEALTHY, 'Service'), resource('z', H.HEALTHY, 'ConfigMap'), resource('a', H.HEALTHY, 'Service')];
    expect(buildReportContent({ ...base, resources }).resources.map((r) => `${r.kind}/${r.name}`)).toEqual(['ConfigMap/z', 'Service/a', 'Service/b']);
  });

  it('does not change the resources it was given', () => {
    const drifted = { ...resource('c', H.HEALTHY), drifted: true, driftedFields: ['spec.replicas', 'data.color'] };
    const resources = [resource('a', H.HEALTHY), resource('b', H.DEGRADED), drifted];
    buildReportContent({ ...base, resources }, limits({ maxResources: 3, maxTextChars: 10, maxDriftedFields: 1 }));
    expect(resources.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(drifted.driftedFields).toEqual(['spec.replicas', 'data.color']);
  });
});

describe('summarizeResources', () => {
  it.each([
    { name: 'all healthy says nothing', resources: [resource('a', H.HEALTHY)], want: '' },
    { name: 'no resources says nothing', resources: [], want: '' },
    {
      name: 'unhealthy resources are counted worst first',
      resources: [resource('a', H.PROGRESSING), resource('b', H.DEGRADED), resource('c', H.PROGRESSING), resource('d', H.HEALTHY)],
      want: '3 of 4 resources not healthy: 1 DEGRADED, 2 PROGRESSING',
    },
  ])('$name', ({ resources, want }) => {
    expect(summarizeResources(resources)).toBe(want);
  });
});
