import { describe, expect, it } from 'vitest';
import type { ScopeSpec } from '../desired-state.js';
import type { ObjectRef } from './object-ref.js';
import { checkScope, checkScopes, describeScopeRefusals, describeScopeViolations, isKindAllowed, type AppScopes } from './scope.js';

const object = (kind: string, namespace: string, group = '') => ({
  ref: { apiVersion: group === '' ? 'v1' : `${group}/v1`, group, version: 'v1', kind, namespace, name: 'x' } satisfies ObjectRef,
  namespaced: namespace !== '',
});
const scope = (overrides: Partial<ScopeSpec> = {}): ScopeSpec => ({ namespaces: [], kinds: [], clusterScoped: false, ...overrides });

describe('checkScope', () => {
  it.each([
    { name: 'no scope allows everything', scope: undefined, object: object('ClusterRole', '', 'rbac.authorization.k8s.io'), refused: false },
    { name: 'empty namespaces allow the App namespace', scope: scope(), object: object('ConfigMap', 'shop'), refused: false },
    { name: 'empty namespaces refuse any other namespace', scope: scope(), object: object('ConfigMap', 'kube-system'), refused: true },
    { name: 'a namespace glob allows matching namespaces', scope: scope({ namespaces: ['team-a-*'] }), object: object('ConfigMap', 'team-a-dev'), refused: false },
    { name: 'a namespace glob refuses other namespaces, even the App namespace', scope: scope({ namespaces: ['team-a-*'] }), object: object('ConfigMap', 'shop'), refused: true },
    { name: 'cluster-scoped objects are refused unless allowed', scope: scope(), object: object('Namespace', ''), refused: true },
    { name: 'cluster-scoped objects are allowed with clusterScoped', scope: scope({ clusterScoped: true }), object: object('Namespace', ''), refused: false },
    { name: 'empty kinds allow any kind', scope: scope(), object: object('Widget', 'shop', 'example.com'), refused: false },
    { name: 'a kind outside the kinds list is refused', scope: scope({ kinds: ['ConfigMap'] }), object: object('Secret', 'shop'), refused: true },
  ])('$name', ({ scope: given, object: candidate, refused }) => {
    expect(checkScope([candidate], given, 'shop').length > 0).toBe(refused);
  });

  it('gives every reason an object is refused, and names it in the summary', () => {
    const violations = checkScope([object('ConfigMap', 'shop'), object('Secret', 'kube-system')], scope({ kinds: ['ConfigMap'] }), 'shop');
    expect(violations).toHaveLength(1);
    expect(violations[0]?.reason).toBe('namespace "kube-system" is not allowed (allowed: "shop"); kind Secret is not allowed');
    expect(describeScopeViolations(violations)).toBe(
      `refused: 1 object outside the App's scope: Secret kube-system/x (namespace "kube-system" is not allowed (allowed: "shop"); kind Secret is not allowed)`,
    );
  });
});

describe('checkScopes', () => {
  const team = scope({ namespaces: ['team-a-*', 'shop'], kinds: ['ConfigMap', 'apps/*'] });
  it.each<{ name: string; scopes: AppScopes; object: ReturnType<typeof object>; refusedBy: string[] }>([
    { name: 'no scopes at all allow everything, as before projects', scopes: {}, object: object('ClusterRole', '', 'rbac.authorization.k8s.io'), refusedBy: [] },
    { name: 'an absent project scope leaves the App scope deciding alone', scopes: { app: scope() }, object: object('ConfigMap', 'kube-system'), refusedBy: ['app'] },
    { name: 'an absent project scope allows what the App scope allows', scopes: { app: scope() }, object: object('Secret', 'shop'), refusedBy: [] },
    { name: 'a project scope alone refuses an object in a namespace outside it', scopes: { project: team }, object: object('ConfigMap', 'kube-system'), refusedBy: ['project'] },
    { name: 'a project scope alone refuses a kind outside it', scopes: { project: team }, object: object('Secret', 'team-a-dev'), refusedBy: ['project'] },
    { name: 'a project scope alone refuses cluster-scoped objects unless it allows them', scopes: { project: team }, object: object('Namespace', ''), refusedBy: ['project'] },
    { name: 'a project scope alone allows an object inside it', scopes: { project: team }, object: object('Deployment', 'team-a-dev', 'apps'), refusedBy: [] },
    { name: 'both scopes allow an object inside their intersection', scopes: { app: scope({ namespaces: ['team-a-*'] }), project: team }, object: object('ConfigMap', 'team-a-dev'), refusedBy: [] },
    {
      name: 'an object the App scope allows but the project scope does not is refused by the project',
      scopes: { app: scope({ namespaces: ['*'] }), project: team },
      object: object('ConfigMap', 'kube-system'),
      refusedBy: ['project'],
    },
    {
      name: 'an object the project scope allows but the App scope does not is refused by the App',
      scopes: { app: scope({ kinds: ['ConfigMap'] }), project: team },
      object: object('Deployment', 'shop', 'apps'),
      refusedBy: ['app'],
    },
    {
      name: 'a cluster-scoped object needs both scopes to allow it',
      scopes: { app: scope({ clusterScoped: true }), project: scope({ clusterScoped: false }) },
      object: object('Namespace', ''),
      refusedBy: ['project'],
    },
    { name: 'an object outside both scopes is refused by both, the project first', scopes: { app: scope(), project: team }, object: object('Secret', 'kube-system'), refusedBy: ['project', 'app'] },
  ])('$name', ({ scopes, object: candidate, refusedBy }) => {
    expect(checkScopes([candidate], scopes, 'shop').map((refusal) => refusal.owner)).toEqual(refusedBy);
  });

  it('keeps checkScope semantics for each scope (empty namespaces mean only the App namespace)', () => {
    const objects = [object('ConfigMap', 'shop'), object('ConfigMap', 'other')];
    expect(checkScopes(objects, { project: scope() }, 'shop')).toEqual([{ owner: 'project', violations: checkScope(objects, scope(), 'shop') }]);
  });
});

describe('describeScopeRefusals', () => {
  it.each([
    {
      name: 'a refusal by the App scope alone reads as it always has',
      scopes: { app: scope({ kinds: ['ConfigMap'] }) },
      want: `refused: 1 object outside the App's scope: Secret kube-system/x (namespace "kube-system" is not allowed (allowed: "shop"); kind Secret is not allowed)`,
    },
    {
      name: 'a refusal by the project scope names the project',
      scopes: { app: scope({ namespaces: ['*'] }), project: scope({ namespaces: ['shop', 'team-*'] }) },
      want: `refused: 1 object outside the project's scope: Secret kube-system/x (namespace "kube-system" is not allowed (allowed: "shop", "team-*"))`,
    },
    {
      name: 'a refusal by both scopes names the project first, then the App',
      scopes: { app: scope({ kinds: ['ConfigMap'] }), project: scope({ namespaces: ['shop', 'team-*'] }) },
      want:
        `refused: 1 object outside the project's scope: Secret kube-system/x (namespace "kube-system" is not allowed (allowed: "shop", "team-*")); ` +
        `1 object outside the App's scope: Secret kube-system/x (namespace "kube-system" is not allowed (allowed: "shop"); kind Secret is not allowed)`,
    },
  ])('$name', ({ scopes, want }) => {
    expect(describeScopeRefusals(checkScopes([object('ConfigMap', 'shop'), object('Secret', 'kube-system')], scopes, 'shop'))).toBe(want);
  });

  it('names at most the given number of objects per scope and counts the rest', () => {
    const objects = ['a', 'b', 'c'].map((name) => ({ ...object('ConfigMap', 'other'), ref: { ...object('ConfigMap', 'other').ref, name } }));
    expect(describeScopeRefusals(checkScopes(objects, { project: scope() }, 'shop'), 2)).toBe(
      `refused: 3 objects outside the project's scope: ConfigMap other/a (namespace "other" is not allowed (allowed: "shop")); ` +
        `ConfigMap other/b (namespace "other" is not allowed (allowed: "shop")); and 1 more`,
    );
  });

  it('describes violations of the project scope with describeScopeViolations too', () => {
    const violations = checkScope([object('Namespace', '')], scope(), 'shop');
    expect(describeScopeViolations(violations, 5, 'project')).toBe(`refused: 1 object outside the project's scope: Namespace x (cluster-scoped objects are not allowed)`);
  });
});

describe('isKindAllowed', () => {
  it.each([
    { name: 'a bare kind matches in any group', group: 'apps', kind: 'Deployment', patterns: ['Deployment'], want: true },
    { name: 'a bare kind matches the core group', group: '', kind: 'ConfigMap', patterns: ['ConfigMap'], want: true },
    { name: 'group/Kind matches only that group', group: 'extensions', kind: 'Deployment', patterns: ['apps/Deployment'], want: false },
    { name: '/Kind matches only the core group', group: 'example.com', kind: 'ConfigMap', patterns: ['/ConfigMap'], want: false },
    { name: '/Kind matches the core kind', group: '', kind: 'ConfigMap', patterns: ['/ConfigMap'], want: true },
    { name: 'a group glob matches its subgroups', group: 'monitoring.coreos.com', kind: 'ServiceMonitor', patterns: ['*.coreos.com/*'], want: true },
    { name: 'a kind glob matches', group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', patterns: ['rbac.authorization.k8s.io/Role*'], want: true },
    { name: 'kinds are case-sensitive', group: '', kind: 'ConfigMap', patterns: ['configmap'], want: false },
  ])('$name', ({ group, kind, patterns, want }) => {
    expect(isKindAllowed(group, kind, patterns)).toBe(want);
  });
});
