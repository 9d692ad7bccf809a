import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../desired-state.js';
import { MAX_HOOKS, deleteAfter, deleteBefore, hookState, hookWaitOutcome, planHooks } from './hooks.js';

const object = (kind: string, name: string, annotations: Record<string, string> = {}): Manifest => ({
  apiVersion: kind === 'Job' ? 'batch/v1' : 'v1',
  kind,
  metadata: { name, annotations },
});
const names = (manifests: readonly { manifest: Manifest }[] | readonly Manifest[]) =>
  manifests.map((m) => ((('manifest' in m ? m.manifest : m) as { metadata: { name: string } }).metadata.name));

describe('planHooks', () => {
  it.each([
    {
      name: 'an App without hooks is all ordinary objects, in manifest order',
      manifests: [object('ConfigMap', 'b'), object('ConfigMap', 'a')],
      pre: [],
      main: ['b', 'a'],
      post: [],
    },
    {
      name: 'pre and post hooks leave the ordinary objects, in manifest order within a phase',
      manifests: [
        object('Job', 'migrate', { 'flotilla.dev/phase': 'pre' }),
        object('ConfigMap', 'app'),
        object('Job', 'smoke', { 'flotilla.dev/phase': 'post' }),
        object('ConfigMap', 'settings', { 'flotilla.dev/phase': 'pre' }),
      ],
      pre: ['migrate', 'settings'],
      main: ['app'],
      post: ['smoke'],
    },
    {
      name: 'helm.sh/hook-weight orders hooks within a phase, lower first, then manifest order',
      manifests: [
        object('Job', 'second', { 'flotilla.dev/phase': 'pre', 'helm.sh/hook-weight': '5' }),
        object('Job', 'first', { 'flotilla.dev/phase': 'pre', 'helm.sh/hook-weight': '-5' }),
        object('Job', 'third', { 'flotilla.dev/phase': 'pre', 'helm.sh/hook-weight': '5' }),
      ],
      pre: ['first', 'second', 'third'],
      main: [],
      post: [],
    },
  ])('$name', ({ manifests, pre, main, post }) => {
    const plan = planHooks(manifests);
    expect(plan.issues).toEqual([]);
    expect(names(plan.pre)).toEqual(pre);
    expect(names(plan.main)).toEqual(main);
    expect(names(plan.post)).toEqual(post);
  });

  it.each([
    { annotation: undefined, policies: ['before-hook-creation'] },
    { annotation: '', policies: ['before-hook-creation'] },
    { annotation: 'hook-succeeded', policies: ['hook-succeeded'] },
    { annotation: 'hook-succeeded, before-hook-creation,hook-succeeded', policies: ['before-hook-creation', 'hook-succeeded'] },
    { annotation: 'hook-failed,hook-succeeded', policies: ['hook-failed', 'hook-succeeded'] },
  ])('reads the delete policies "$annotation" as $policies', ({ annotation, policies }) => {
    const plan = planHooks([object('Job', 'j', { 'flotilla.dev/phase': 'pre', ...(annotation === undefined ? {} : { 'helm.sh/hook-delete-policy': annotation }) })]);
    expect(plan.pre[0]?.deletePolicies).toEqual(policies);
  });

  it.each([
    { name: 'an unknown phase', annotations: { 'flotilla.dev/phase': 'pre-install' }, issue: /flotilla\.dev\/phase must be one of pre, post; got "pre-install"/ },
    { name: 'an unknown delete policy', annotations: { 'flotilla.dev/phase': 'post', 'helm.sh/hook-delete-policy': 'always' }, issue: /hook-delete-policy entries must be .*; got "always"/ },
    { name: 'a weight that is no integer', annotations: { 'flotilla.dev/phase': 'pre', 'helm.sh/hook-weight': 'heavy' }, issue: /hook-weight must be an integer; got "heavy"/ },
  ] as { name: string; annotations: Record<string, string>; issue: RegExp }[])('refuses $name, naming the object', ({ annotations, issue }) => {
    const plan = planHooks([object('ConfigMap', 'ok'), object('Job', 'bad', annotations)]);
    expect(plan.issues).toHaveLength(1);
    expect(plan.issues[0]).toMatch(/^manifest 1 \(Job bad\): /);
    expect(plan.issues[0]).toMatch(issue);
  });

  it('refuses more hooks than the limit', () => {
    const manifests = Array.from({ length: MAX_HOOKS + 1 }, (_, i) => object('Job', `j${i}`, { 'flotilla.dev/phase': 'post' }));
    expect(planHooks(manifests).issues).toEqual([`the App has ${MAX_HOOKS + 1} hook objects, over the limit of ${MAX_HOOKS}`]);
  });

  it('ignores helm.sh/hook-delete-policy on an ordinary object', () => {
    const plan = planHooks([object('ConfigMap', 'plain', { 'helm.sh/hook-delete-policy': 'always' })]);
    expect(plan).toEqual({ pre: [], main: [object('ConfigMap', 'plain', { 'helm.sh/hook-delete-policy': 'always' })], post: [], issues: [] });
  });
});

describe('hook states and delete policies', () => {
  it.each([
    { health: Health.HEALTHY, state: 'succeeded' },
    { health: Health.DEGRADED, state: 'failed' },
    { health: Health.PROGRESSING, state: 'running' },
    { health: Health.UNKNOWN, state: 'running' },
  ])('a hook judged $health is $state', ({ health, state }) => {
    expect(hookState(health)).toBe(state);
  });

  it.each([
    { policies: ['before-hook-creation'], state: 'succeeded', before: true, after: false },
    { policies: ['hook-succeeded'], state: 'succeeded', before: false, after: true },
    { policies: ['hook-succeeded'], state: 'failed', before: false, after: false },
    { policies: ['hook-failed'], state: 'failed', before: false, after: true },
    { policies: ['before-hook-creation', 'hook-failed', 'hook-succeeded'], state: 'failed', before: true, after: true },
  ] as const)('with $policies a $state hook is deleted before: $before, after: $after', ({ policies, state, before, after }) => {
    expect(deleteBefore({ deletePolicies: policies })).toBe(before);
    expect(deleteAfter({ deletePolicies: policies }, state)).toBe(after);
  });

  it.each([
    { state: 'running', now: 999, outcome: 'running' },
    { state: 'running', now: 1000, outcome: 'timed-out' },
    { state: 'succeeded', now: 5000, outcome: 'succeeded' },
    { state: 'failed', now: 0, outcome: 'failed' },
  ] as const)('a $state hook at $now ms (deadline 1000) is $outcome', ({ state, now, outcome }) => {
    expect(hookWaitOutcome(state, now, 1000)).toBe(outcome);
  });
});
