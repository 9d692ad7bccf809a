import { SyncMode } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { objectKey, type ObjectRef } from './object-ref.js';
import { planPrune, type LiveObjectSummary, type PruneInput } from './prune.js';

const ref = (kind: string, name: string, namespace = 'shop', group = ''): ObjectRef => ({
  apiVersion: group === '' ? 'v1' : `${group}/v1`,
  group,
  version: 'v1',
  kind,
  namespace,
  name,
});
const live = (r: ObjectRef, app: string | undefined = 'web', deleting = false): LiveObjectSummary => ({ ref: r, app, deleting });
const keep = ref('ConfigMap', 'keep');
const gone = ref('ConfigMap', 'gone');
const input = (overrides: Partial<PruneInput>): PruneInput => ({
  appName: 'web',
  mode: SyncMode.SYNC,
  applyComplete: true,
  desired: new Set([objectKey(keep)]),
  live: [live(keep), live(gone)],
  namespacesUsedByOthers: new Set(),
  ...overrides,
});

describe('planPrune', () => {
  it.each([
    { name: 'prunes objects no longer desired when the policy is sync', overrides: {}, want: ['ConfigMap shop/gone'] },
    { name: 'never prunes under create-update', overrides: { mode: SyncMode.CREATE_UPDATE }, want: [] },
    { name: 'never prunes under create-only', overrides: { mode: SyncMode.CREATE_ONLY }, want: [] },
    { name: 'prunes nothing after an incomplete apply', overrides: { applyComplete: false }, want: [] },
    { name: 'never prunes an object another App claims', overrides: { live: [live(gone, 'web-other')] }, want: [] },
    { name: 'prunes an object that carries only the label', overrides: { live: [live(gone, undefined)] }, want: ['ConfigMap shop/gone'] },
    { name: 'does not delete an object already being deleted', overrides: { live: [live(gone, 'web', true)] }, want: [] },
    {
      name: 'keeps a namespace that holds objects of other Apps',
      overrides: { live: [live(ref('Namespace', 'shared', '')), live(ref('Namespace', 'mine', ''))], namespacesUsedByOthers: new Set(['shared']) },
      want: ['Namespace /mine'],
    },
  ])('$name', ({ overrides, want }) => {
    const plan = planPrune(input(overrides));
    expect(plan.delete.map((r) => `${r.kind} ${r.namespace}/${r.name}`)).toEqual(want);
  });

  it('says why it kept what it kept', () => {
    expect(planPrune(input({ mode: SyncMode.CREATE_UPDATE })).kept).toEqual([{ ref: gone, reason: 'sync mode create-update never prunes' }]);
    expect(planPrune(input({ applyComplete: false })).kept).toEqual([{ ref: gone, reason: 'not pruned: the apply was incomplete' }]);
  });

  it('deletes everything of the App on removal, custom resources before their definition and namespaces last', () => {
    const crd = ref('CustomResourceDefinition', 'widgets.example.com', '', 'apiextensions.k8s.io');
    const plan = planPrune(
      input({ desired: new Set(), live: [live(crd), live(ref('Namespace', 'shop', '')), live(ref('Widget', 'w', 'shop', 'example.com')), live(keep)] }),
    );
    expect(plan.delete.map((r) => r.kind)).toEqual(['ConfigMap', 'Widget', 'Namespace', 'CustomResourceDefinition']);
  });
});
