import { describe, expect, it } from 'vitest';
import { titled } from '../harness/security-answers.js';
import { describeSecurityWorlds } from '../harness/security-suite.js';
import { appSetYaml, CONFIG_MAP, listAppSet } from '../harness/security-world.js';

/**
 * RELIABILITY.md row 10 (template injection into project, namespace or scope), once with one hub and
 * once with three replicas over one database behind a TCP balancer (row 19: the tables must come out
 * identical, which the last test checks). The tenants are those of {@link SecurityWorld}.
 */


describeSecurityWorlds((suite) => {
  const { ask, must, record } = suite;

  describe('row 10: template injection into project, namespace or scope', () => {
    const INJECTIONS: { case: string; yaml: (name: string) => string; codes: string[] }[] = [
      {
        case: 'a list value "../kube-system" used as the namespace',
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: "../kube-system" }`, `    namespace: "{{ ns }}"\n    manifests:\n${CONFIG_MAP}`),
        codes: ['INVALID_NAMESPACE'],
      },
      {
        case: "a list value naming team-b's namespace",
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: team-b }`, `    namespace: "{{ ns }}"\n    manifests:\n${CONFIG_MAP}`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: "a list value putting one object in kube-system",
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: kube-system }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: "{{ ns }}" } }`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a "{{ }}" expression inside a value (rendered once, never re-rendered)',
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: "{{ 'kube-system' }}" }`, `    namespace: "{{ ns }}"\n    manifests:\n${CONFIG_MAP}`),
        codes: ['INVALID_NAMESPACE'],
      },
      {
        case: 'a namespace that matches team-a-* only as text',
        yaml: (n) => listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: "team-a-../../kube-system" } }`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a YAML anchor carrying kube-system into a manifest',
        yaml: (n) => listAppSet(n, `{ cluster: a-1, ns: &target kube-system }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: *target } }`),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a billion-laughs alias expansion',
        yaml: (n) => {
          const row = (alias: string) => `[${Array(10).fill(alias).join(', ')}]`;
          return listAppSet(
            n,
            `{ cluster: a-1, l0: &l0 "lol", l1: &l1 ${row('*l0')}, l2: &l2 ${row('*l1')}, l3: &l3 ${row('*l2')}, l4: &l4 ${row('*l3')} }`,
            `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`,
          );
        },
        codes: ['YAML_ALIAS_LIMIT'],
      },
      {
        case: 'a templated project name',
        yaml: (n) => listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`).replace('project: team-a', 'project: "{{ project }}"'),
        codes: ['SCHEMA'],
      },
      {
        case: 'a project name with a path',
        yaml: (n) => listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n${CONFIG_MAP}`).replace('project: team-a', 'project: "../team-b"'),
        codes: ['SCHEMA'],
      },
      {
        case: 'a ClusterRoleBinding to cluster-admin',
        yaml: (n) =>
          listAppSet(
            n,
            `{ cluster: a-1 }`,
            `    namespace: team-a\n    manifests:\n      - apiVersion: rbac.authorization.k8s.io/v1\n        kind: ClusterRoleBinding\n        metadata: { name: team-a-admin }\n        roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\n        subjects: [{ kind: ServiceAccount, name: default, namespace: team-a }]`,
          ),
        codes: ['PROJECT_CLUSTER_SCOPED_NOT_ALLOWED'],
      },
      {
        case: 'a privileged DaemonSet in kube-system',
        yaml: (n) =>
          listAppSet(
            n,
            `{ cluster: a-1 }`,
            `    namespace: team-a\n    manifests:\n      - apiVersion: apps/v1\n        kind: DaemonSet\n        metadata: { name: node-shell, namespace: kube-system }\n        spec:\n          selector: { matchLabels: { app: node-shell } }\n          template:\n            metadata: { labels: { app: node-shell } }\n            spec:\n              hostPID: true\n              containers: [{ name: shell, image: busybox, securityContext: { privileged: true } }]`,
          ),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
      {
        case: 'a Namespace under a syncPolicy scope that claims every namespace and cluster-scoped objects',
        yaml: (n) =>
          listAppSet(n, `{ cluster: a-1 }`, `    namespace: team-a\n    manifests:\n      - { apiVersion: v1, kind: Namespace, metadata: { name: kube-system } }`, `  syncPolicy: { scope: { namespaces: ["*"], clusterScoped: true } }`),
        codes: ['PROJECT_CLUSTER_SCOPED_NOT_ALLOWED'],
      },
      { case: "project team-b, which operator-a cannot see", yaml: (n) => appSetYaml(n, 'team-b'), codes: ['PROJECT_NOT_FOUND'] },
      { case: 'no project, which puts it in default, where operator-a has no role', yaml: (n) => appSetYaml(n, undefined, 'v1', 'team-a'), codes: ['PROJECT_NOT_FOUND'] },
      {
        case: "team-a's own AppSet moved into kube-system",
        yaml: () => appSetYaml('a-app', 'team-a', 'v3', 'kube-system'),
        codes: ['PROJECT_NAMESPACE_NOT_ALLOWED'],
      },
    ];

    it.each(titled(INJECTIONS.map((row, index) => ({ ...row, name: `injected-${index}` })), (row) => `${row.case} gets ${row.codes.join(', ')}`))(
      'operator-a applying %s, nothing is stored, and previewAppSet shows the same issues',
      async (_title, { yaml, codes, name }) => {
        const document = yaml(name);
        const appSetName = /name: ([a-z0-9-]+)/.exec(document)![1]!;
        // What is stored under that name: the AppSet, or the NOT_FOUND a missing one answers.
        const stored = async () => {
          const answer = await ask('admin', `query($n: String!) { appSet(name: $n) { revision condition } }`, { n: appSetName });
          return answer.errors.length > 0 ? answer.errors.map((e) => e.code) : answer.data;
        };
        const before = await stored();
        const applied = await must<{ applyAppSet: { changed: boolean; appSet: unknown; issues: { code: string; path: string }[] } }>(
          'operator-a',
          `mutation($y: String!) { applyAppSet(yaml: $y) { changed appSet { name } issues { code path message } } }`,
          { y: document },
        );
        const preview = await must<{ previewAppSet: { issues: { code: string; path: string }[]; totals: unknown } }>(
          'operator-a',
          `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added } } }`,
          { y: document },
        );
        expect([...new Set(applied.applyAppSet.issues.map((i) => i.code))].sort()).toEqual(codes);
        expect(applied.applyAppSet).toMatchObject({ changed: false, appSet: null });
        expect(preview.previewAppSet.issues).toEqual(applied.applyAppSet.issues);
        expect(preview.previewAppSet.totals).toBeNull();
        expect(await stored()).toEqual(before);
        record(`row 10: ${name}`, applied);
      },
    );
  });

});
