import { describe, expect, it } from 'vitest';
import { FLOTILLA_PHASE, markHelmHooks } from './helm-hooks';

const object = (name: string, annotations?: Record<string, string>) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, ...(annotations ? { annotations } : {}) } });

describe('markHelmHooks', () => {
  it.each([
    { hook: 'pre-install', phase: 'pre' },
    { hook: 'pre-upgrade', phase: 'pre' },
    { hook: 'pre-install,pre-upgrade', phase: 'pre' },
    { hook: 'post-install', phase: 'post' },
    { hook: ' post-install , post-upgrade ', phase: 'post' },
    { hook: 'pre-install,post-install', phase: 'pre' },
    { hook: 'post-upgrade,pre-delete', phase: 'post' },
  ])('a "$hook" hook becomes phase $phase and keeps its delete policy and weight', ({ hook, phase }) => {
    const annotations = { 'helm.sh/hook': hook, 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded', 'helm.sh/hook-weight': '-5' };
    const { manifests, dropped } = markHelmHooks([object('migrate', annotations)]);
    expect(dropped).toEqual([]);
    expect(manifests).toEqual([object('migrate', { ...annotations, [FLOTILLA_PHASE]: phase })]);
  });

  it.each([
    { hook: 'test', reason: 'test' },
    { hook: 'test-success', reason: 'test' },
    { hook: 'post-install,test', reason: 'test' },
    { hook: 'pre-delete', reason: 'unsupported' },
    { hook: 'post-rollback', reason: 'unsupported' },
  ])('a "$hook" hook is dropped as $reason', ({ hook, reason }) => {
    const { manifests, dropped } = markHelmHooks([object('check', { 'helm.sh/hook': hook })]);
    expect(manifests).toEqual([]);
    expect(dropped).toEqual([{ kind: 'Job', name: 'check', events: hook.split(',').map((e) => e.trim()), reason }]);
  });

  it('passes objects without a hook through unchanged, in order, without mutating the input', () => {
    const input = [object('a'), object('hook', { 'helm.sh/hook': 'post-install' }), object('b', { team: 'web' })];
    const copy = structuredClone(input);
    const { manifests } = markHelmHooks(input);
    expect(input).toEqual(copy);
    expect(manifests.map((m) => (m['metadata'] as { name: string }).name)).toEqual(['a', 'hook', 'b']);
    expect(manifests[0]).toBe(input[0]);
    expect(manifests[2]).toBe(input[2]);
  });
});
