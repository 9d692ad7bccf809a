import { describe, expect, it } from 'vitest';
import { revisionOf } from '@flotilla/proto';
import type { RenderedApp } from '../expand-app-set';
import { previewAppSet, type StagedApp } from './preview-app-set';

const cm = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { value } });
const staged = (clusterName: string, appName: string, value: string): StagedApp => ({ clusterName, appName, revision: revisionOf([cm(value)]), manifests: [cm(value)] });
const rendered = (clusterName: string, appName: string, value: string): RenderedApp => ({
  clusterName,
  appName,
  namespace: '',
  manifests: [cm(value)],
  revision: revisionOf([cm(value)]),
  manifestBytes: 0,
  syncPolicy: { mode: 'sync', drift: 'report', preserveResourcesOnDeletion: false },
  source: 'spec.generators[0]',
  explain: { sources: [], parameters: {}, git: [] },
});

describe('previewAppSet', () => {
  it('lists added, removed and changed Apps per cluster with totals, and leaves unchanged clusters out', () => {
    const preview = previewAppSet(
      [staged('eu-1', 'web', 'a'), staged('us-1', 'web', 'a'), staged('ap-1', 'web', 'a')],
      [rendered('eu-1', 'web', 'b'), rendered('us-1', 'web', 'a'), rendered('new-1', 'web', 'a')],
    );
    expect(preview.totals).toEqual({ added: 1, removed: 1, changed: 1, unchanged: 1 });
    expect(preview.clusters.map((c) => [c.clusterName, c.added.length, c.removed.length, c.changed.length])).toEqual([
      ['ap-1', 0, 1, 0],
      ['eu-1', 0, 0, 1],
      ['new-1', 1, 0, 0],
    ]);
  });

  it('shows a change as a unified diff of the manifests as YAML', () => {
    const preview = previewAppSet([staged('eu-1', 'web', 'old')], [rendered('eu-1', 'web', 'new')]);
    const diff = preview.clusters[0]!.changed[0]!.diff;
    expect(diff).toContain('-  value: old');
    expect(diff).toContain('+  value: new');
  });

  it('an identical expansion previews no change', () => {
    expect(previewAppSet([staged('eu-1', 'web', 'a')], [rendered('eu-1', 'web', 'a')])).toEqual({ clusters: [], totals: { added: 0, removed: 0, changed: 0, unchanged: 1 } });
  });

  it('added and changed Apps carry the explain of their new expansion; removed ones none', () => {
    const preview = previewAppSet([staged('eu-1', 'web', 'old'), staged('us-1', 'web', 'a')], [rendered('eu-1', 'web', 'new'), rendered('ap-1', 'web', 'a')]);
    const [ap, eu, us] = preview.clusters;
    expect(ap!.added[0]!.explain).toEqual({ sources: [], parameters: {}, git: [] });
    expect(eu!.changed[0]!.explain).toEqual({ sources: [], parameters: {}, git: [] });
    expect(us!.removed[0]!.explain).toBeUndefined();
  });
});
