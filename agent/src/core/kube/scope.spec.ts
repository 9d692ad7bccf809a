import { describe, expect, it } from 'vitest';
import type { ScopeSpec } from '../desired-state.js';
import type { ObjectRef } from './object-ref.js';
import { checkScope, describeScopeViolations, isKindAllowed } from './scope.js';

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
