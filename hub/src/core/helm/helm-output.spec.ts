import { describe, expect, it } from 'vitest';
import { helmTemplateArgs, readHelmOutput } from './helm-output';

const rendered = `---
# Source: web/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  alert: "{{ $labels.instance }} is down"
---
# Source: web/templates/tests/test.yaml
apiVersion: v1
kind: Pod
metadata:
  name: web-test
  annotations:
    helm.sh/hook: test
---
`;

describe('readHelmOutput', () => {
  it('reads objects as data, keeps a literal {{ }} and drops test hooks', () => {
    const out = readHelmOutput(rendered, { namespace: 'web', createNamespace: false });
    expect(out).toEqual({
      ok: true,
      manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { alert: '{{ $labels.instance }} is down' } }],
      dropped: [{ kind: 'Pod', name: 'web-test', events: ['test'], reason: 'test' }],
    });
  });

  it('with createNamespace puts the Namespace first, once', () => {
    const out = readHelmOutput(rendered, { namespace: 'web', createNamespace: true });
    expect(out.ok && out.manifests.map((m) => m['kind'])).toEqual(['Namespace', 'ConfigMap']);
    const already = readHelmOutput('apiVersion: v1\nkind: Namespace\nmetadata: { name: web }\n', { namespace: 'web', createNamespace: true });
    expect(already.ok && already.manifests.length).toBe(1);
  });

  it.each([
    { text: 'a: [1\n', message: /invalid YAML \(document 0\)/ },
    { text: '- a\n- b\n', message: /document 0 that is not a Kubernetes object/ },
  ])('refuses output that is not objects: $message', ({ text, message }) => {
    const out = readHelmOutput(text, { namespace: 'web', createNamespace: false });
    expect(out.ok).toBe(false);
    expect(!out.ok && out.message).toMatch(message);
  });
});

describe('helmTemplateArgs', () => {
  it('passes capabilities, CRDs and values files, and never a repository or dependency flag', () => {
    expect(helmTemplateArgs('/c/web.tgz', { releaseName: 'web', namespace: 'shop', valueFiles: ['/c/web/values-prod.yaml', '/v/values.json'], includeCrds: true, kubeVersion: 'v1.35.2', apiVersions: ['monitoring.coreos.com/v1', 'policy/v1/PodDisruptionBudget'] })).toEqual([
      'template', 'web', '/c/web.tgz', '--namespace', 'shop', '--skip-tests', '--include-crds',
      '--kube-version', 'v1.35.2', '--api-versions', 'monitoring.coreos.com/v1', '--api-versions', 'policy/v1/PodDisruptionBudget',
      '--values', '/c/web/values-prod.yaml', '--values', '/v/values.json',
    ]);
  });

  it('uses helm defaults when capabilities are unknown and leaves CRDs out on request', () => {
    expect(helmTemplateArgs('/c/web.tgz', { releaseName: 'web', namespace: 'shop', valueFiles: [], includeCrds: false })).toEqual(['template', 'web', '/c/web.tgz', '--namespace', 'shop', '--skip-tests']);
  });
});
