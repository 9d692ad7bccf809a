import { describe, expect, it } from 'vitest';
import { checkProjectScope, matchesGlob, type ScopedApp } from './check-project-scope';
import type { ProjectRule } from './project-rule';

const project: ProjectRule = { name: 'team-a', clusterSelector: {}, namespaces: ['team-a', 'team-a-*'], kinds: ['Deployment', '/ConfigMap', '/Service', 'networking.k8s.io/*'], clusterScoped: false };
const app = (manifests: unknown[], namespace = 'team-a'): ScopedApp => ({ clusterName: 'c1', appName: 'web', namespace, manifests });
const object = (apiVersion: string, kind: string, namespace?: string) => ({ apiVersion, kind, metadata: { name: 'x', ...(namespace !== undefined ? { namespace } : {}) } });

describe('checkProjectScope', () => {
  it.each<{ name: string; app: ScopedApp; codes: string[] }>([
    { name: 'objects inside the allow-list pass', app: app([object('apps/v1', 'Deployment'), object('v1', 'ConfigMap', 'team-a-cache'), object('networking.k8s.io/v1', 'Ingress')]), codes: [] },
    { name: "an App whose own namespace is outside is refused", app: app([object('v1', 'ConfigMap')], 'kube-system'), codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'] },
    { name: 'an object naming a namespace outside is refused', app: app([object('v1', 'ConfigMap', 'team-b')]), codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'] },
    { name: 'a path-like namespace does not slip through a glob', app: app([object('v1', 'ConfigMap', 'team-a-../kube-system')]), codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'] },
    { name: 'a ClusterRoleBinding is refused when cluster-scoped objects are not allowed', app: app([object('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')]), codes: ['PROJECT_CLUSTER_SCOPED_NOT_ALLOWED', 'PROJECT_KIND_NOT_ALLOWED'] },
    { name: 'a kind outside the list is refused', app: app([object('v1', 'Secret')]), codes: ['PROJECT_KIND_NOT_ALLOWED'] },
    { name: '/Kind matches the core group only', app: app([object('example.com/v1', 'ConfigMap')]), codes: ['PROJECT_KIND_NOT_ALLOWED'] },
    { name: 'an App with no namespace is left to the agent (it refuses objects with none)', app: app([object('v1', 'ConfigMap')], ''), codes: [] },
  ])('$name', ({ app: one, codes }) => {
    expect(checkProjectScope([one], project).map((i) => i.code)).toEqual(codes);
  });

  it('allows cluster-scoped objects and any kind when the project says so', () => {
    const open: ProjectRule = { ...project, kinds: [], clusterScoped: true, namespaces: ['*'] };
    expect(checkProjectScope([app([object('v1', 'Namespace'), object('apps/v1', 'DaemonSet', 'kube-system')])], open)).toEqual([]);
  });

  it('caps the issues and says how many there were', () => {
    const many = app(Array.from({ length: 50 }, () => object('v1', 'Secret')));
    const issues = checkProjectScope([many], project);
    expect(issues).toHaveLength(20);
    expect(issues[19]).toMatchObject({ code: 'PROJECT_SCOPE_VIOLATIONS' });
    expect(issues[19]!.message).toContain('50 objects');
  });
});

describe('matchesGlob', () => {
  it.each([
    { value: 'team-a-web', pattern: 'team-a-*', want: true },
    { value: 'team-a', pattern: 'team-a-*', want: false },
    { value: 'team-ab', pattern: 'team-a', want: false },
    { value: 'a.b', pattern: 'a*b', want: true },
    { value: 'axb', pattern: 'a.b', want: false },
  ])('"$value" against "$pattern" is $want', ({ value, pattern, want }) => {
    expect(matchesGlob(value, pattern)).toBe(want);
  });
});
