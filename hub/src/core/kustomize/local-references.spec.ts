import { describe, expect, it } from 'vitest';
import { checkLocalReferences } from './local-references';

const kustomization = (body: string) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${body}`;
const repo = (files: Record<string, string>) => new Map(Object.entries(files));

describe('checkLocalReferences', () => {
  it('accepts a kustomization whose resources, bases and components are files and directories of the repository', () => {
    const files = repo({
      'apps/web/kustomization.yaml': kustomization('resources:\n  - deployment.yaml\n  - ../../base\ncomponents:\n  - ../../components/monitoring\n'),
      'apps/web/deployment.yaml': 'kind: Deployment',
      'base/kustomization.yml': kustomization('resources: [service.yaml]\n'),
      'base/service.yaml': 'kind: Service',
      'components/monitoring/Kustomization': 'kind: Component\nresources: [cm.yaml]\n',
      'components/monitoring/cm.yaml': 'kind: ConfigMap',
    });
    expect(checkLocalReferences(files, 'apps/web')).toBeNull();
  });

  it.each([
    { entry: 'https://github.com/org/repo//base?ref=v1', shown: 'https://github.com/org/repo//base?ref=***' },
    { entry: 'github.com/org/repo/base?ref=main', shown: 'github.com/org/repo/base?ref=main' },
    { entry: 'git@github.com:org/repo.git//base', shown: 'git@github.com:org/repo.git//base' },
    { entry: 'https://user:s3cret-token@git.example/repo.git', shown: 'https://user:***@git.example/repo.git' },
    { entry: '../../outside', shown: '../../outside' },
    { entry: '/etc/kubernetes', shown: '/etc/kubernetes' },
    { entry: 'missing', shown: 'missing' },
  ])('refuses the resource "$entry" as a remote base, credentials masked', ({ entry, shown }) => {
    const files = repo({ 'app/kustomization.yaml': kustomization(`resources:\n  - ${JSON.stringify(entry)}\n`) });
    const problem = checkLocalReferences(files, 'app');
    expect(problem?.code).toBe('KUSTOMIZE_REMOTE_BASE');
    expect(problem?.message).toContain(`"${shown}"`);
    expect(problem?.message).not.toContain('s3cret-token');
  });

  it('follows local bases and refuses a remote base two levels down', () => {
    const files = repo({
      'overlay/kustomization.yaml': kustomization('resources: [../base]\n'),
      'base/kustomization.yaml': kustomization('resources: [../shared]\n'),
      'shared/kustomization.yaml': kustomization('resources: ["https://example.com/all.yaml"]\n'),
    });
    expect(checkLocalReferences(files, 'overlay')).toMatchObject({ code: 'KUSTOMIZE_REMOTE_BASE', message: expect.stringContaining('shared/kustomization.yaml') });
  });

  it('visits a cycle of bases once and terminates', () => {
    const files = repo({ 'a/kustomization.yaml': kustomization('resources: [../b]\n'), 'b/kustomization.yaml': kustomization('resources: [../a]\n') });
    expect(checkLocalReferences(files, 'a')).toBeNull();
  });

  it.each<{ name: string; files: Record<string, string>; code: string }>([
    { name: 'helm chart inflation', files: { 'k/kustomization.yaml': kustomization('helmCharts:\n  - name: x\n') }, code: 'KUSTOMIZE_HELM_NOT_SUPPORTED' },
    { name: 'a directory without a kustomization', files: { 'k/deploy.yaml': 'kind: X' }, code: 'KUSTOMIZE_NOT_FOUND' },
    { name: 'a kustomization that is not YAML', files: { 'k/kustomization.yaml': 'resources: [a\n' }, code: 'KUSTOMIZE_INVALID' },
    { name: 'resources that are not a list', files: { 'k/kustomization.yaml': kustomization('resources: base\n') }, code: 'KUSTOMIZE_INVALID' },
  ])('refuses $name with $code', ({ files, code }) => {
    expect(checkLocalReferences(repo(files), 'k')?.code).toBe(code);
  });

  it('leaves inline generator configurations alone (they are objects, not references)', () => {
    const files = repo({ 'k/kustomization.yaml': kustomization('generators:\n  - apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata: { name: x }\n') });
    expect(checkLocalReferences(files, 'k')).toBeNull();
  });
});
