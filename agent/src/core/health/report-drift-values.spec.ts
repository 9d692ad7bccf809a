import { Health, SyncStatus } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import type { DriftedValue } from '../kube/drift-values.js';
import { REPORT_LIMITS, buildReportContent, type ReportLimits, type ResourceHealth } from './report.js';

// How the values of drifted fields travel in a Report: with their paths, bounded per value and per Report.

const base = { appName: 'web', revision: 'r1', generation: 1n, health: Health.HEALTHY, syncStatus: SyncStatus.OUT_OF_SYNC, message: 'drifted', observedAtUnixMs: 1 };
const limits = (overrides: Partial<ReportLimits>): ReportLimits => ({ ...REPORT_LIMITS, ...overrides });

function drifted(name: string, values: DriftedValue[], health = Health.HEALTHY): ResourceHealth {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name, health, message: '', drifted: true, driftedFields: values.map((v) => v.path), driftedValues: values };
}
const value = (path: string, expected: string, live: string): DriftedValue => ({ path, expected, live, redacted: false });

describe('buildReportContent with drifted values', () => {
  it('keeps one value per kept path, in the order of the sorted paths', () => {
    const report = buildReportContent({ ...base, resources: [drifted('cm', [value('data.b', '"1"', '"2"'), value('data.a', '"x"', '"y"'), value('data.a', '"dup"', '"dup"')])] });
    expect(report.resources[0]?.driftedFields).toEqual(['data.a', 'data.b']);
    expect(report.resources[0]?.driftedValues).toEqual([value('data.a', '"x"', '"y"'), value('data.b', '"1"', '"2"')]);
  });

  it('is empty for a resource without drifted values (the driver did not know them)', () => {
    const report = buildReportContent({ ...base, resources: [{ ...drifted('cm', []), driftedFields: ['data.a'] }] });
    expect(report.resources[0]?.driftedValues).toEqual([]);
  });

  it('drops values whose path was cut away with the paths past maxDriftedFields', () => {
    const values = [value('data.a', '1', '2'), value('data.b', '1', '2'), value('data.c', '1', '2')];
    const report = buildReportContent({ ...base, resources: [drifted('cm', values)] }, limits({ maxDriftedFields: 2 }));
    expect(report.resources[0]?.driftedValues.map((v) => v.path)).toEqual(['data.a', 'data.b']);
  });

  it('cuts a path the way it cuts the field path, so the value still follows it', () => {
    const long = `data.${'k'.repeat(400)}`;
    const report = buildReportContent({ ...base, resources: [drifted('cm', [value(long, '1', '2')])] }, limits({ maxFieldPathChars: 64 }));
    expect(report.resources[0]?.driftedValues[0]?.path).toBe(report.resources[0]?.driftedFields[0]);
  });

  it('cuts each value to maxDriftValueChars with a marker', () => {
    const report = buildReportContent({ ...base, resources: [drifted('cm', [value('data.a', `"${'x'.repeat(100)}"`, '"short"')])] }, limits({ maxDriftValueChars: 32 }));
    const [kept] = report.resources[0]?.driftedValues ?? [];
    expect(kept?.expected).toHaveLength(32);
    expect(kept?.expected?.endsWith('…[truncated]')).toBe(true);
    expect(kept?.live).toBe('"short"');
  });

  it('sends no value of a redacted field, whatever the driver put in it', () => {
    const leaky: DriftedValue = { path: 'data.password', expected: '"hunter22"', live: '"hunter33"', redacted: true };
    const report = buildReportContent({ ...base, resources: [drifted('cm', [leaky])] });
    expect(report.resources[0]?.driftedValues).toEqual([{ path: 'data.password', redacted: true }]);
  });

  it('spends the per-Report value budget worst resource first; later fields keep their paths without values', () => {
    const resources = [drifted('a-healthy', [value('data.x', '"1234"', '"5678"')]), drifted('b-degraded', [value('data.y', '"1234"', '"5678"')], Health.DEGRADED)];
    const report = buildReportContent({ ...base, resources }, limits({ maxDriftValueCharsPerReport: 15 }));
    expect(report.resources.map((r) => [r.name, r.driftedFields, r.driftedValues.map((v) => v.path)])).toEqual([
      ['b-degraded', ['data.y'], ['data.y']],
      ['a-healthy', ['data.x'], []],
    ]);
  });

  it('does not change the resources it was given', () => {
    const values = [value('data.b', '1', '2'), value('data.a', '1', '2')];
    const resource = drifted('cm', values);
    buildReportContent({ ...base, resources: [resource] }, limits({ maxDriftValueChars: 1 }));
    expect(resource.driftedValues).toEqual([value('data.b', '1', '2'), value('data.a', '1', '2')]);
  });
});
