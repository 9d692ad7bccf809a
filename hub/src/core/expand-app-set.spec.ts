import { revisionOf } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import type { AppSetDocument, GeneratorSpec } from './app-set/app-set-spec';
import { DEFAULT_EXPANSION_LIMITS, expandAppSet } from './expand-app-set';
import { completeGitSnapshot, EMPTY_GIT_SNAPSHOT } from './generators/git-snapshot';
import type { ClusterSnapshot } from './generators/param-set';

const clusters: ClusterSnapshot[] = [
  { name: 'us-1', labels: { region: 'us', env: 'prod' }, values: { tier: 'gold' } },
  { name: 'eu-1', labels: { region: 'eu', env: 'prod' }, values: {} },
  { name: 'eu-2', labels: { region: 'eu', env: 'dev' }, values: {} },
];

function appSet(generators: GeneratorSpec[], manifests: Record<string, unknown>[], extra: { name?: string; namespace?: string } = {}): AppSetDocument {
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'AppSet',
    metadata: { name: 'web' },
    spec: { generators, template: { ...extra, manifests } },
  };
}

const configMap = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config' }, data });

describe('expandAppSet', () => {
  it('a clusters generator with a selector renders one App per matching cluster, sorted by cluster', () => {
    const result = expandAppSet(
      appSet([{ clusters: { selector: { matchLabels: { env: 'prod' } } } }], [configMap({ region: '{{ cluster.labels.region }}', who: '{{ cluster.name }}' })]),
      clusters,
    );
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => [a.clusterName, a.appName, a.manifests[0]!['data']])).toEqual([
      ['eu-1', 'web', { region: 'eu', who: 'eu-1' }],
      ['us-1', 'web', { region: 'us', who: 'us-1' }],
    ]);
  });

  it('a list generator exposes its element keys and the target cluster object', () => {
    const result = expandAppSet(
      appSet([{ list: { elements: [{ cluster: 'eu-2', replicas: 3, color: 'blue' }] } }], [configMap({ color: '{{ color }}', tier: '{{ cluster.labels.env }}' })]),
      clusters,
    );
    expect(result.apps).toHaveLength(1);
    expect(result.apps[0]!.manifests[0]!['data']).toEqual({ color: 'blue', tier: 'dev' });
  });

  it('a leaf that is exactly one expression keeps a number parameter a number', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: '{{ replicas }}' } };
    const result = expandAppSet(appSet([{ list: { elements: [{ cluster: 'eu-1', replicas: 3 }] } }], [deployment]), clusters);
    expect(result.apps[0]!.manifests[0]!['spec']).toEqual({ replicas: 3 });
  });

  it('the revision is the content hash of the rendered manifests', () => {
    const result = expandAppSet(appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({ a: '1' })]), clusters);
    expect(result.apps[0]!.revision).toBe(revisionOf([configMap({ a: '1' })]));
  });

  it('generator values are rendered over the cluster parameters', () => {
    const result = expandAppSet(
      appSet([{ clusters: { selector: { matchLabels: { region: 'us' } }, values: { url: 'https://{{ cluster.name }}.example' } } }], [configMap({ url: '{{ values.url }}' })]),
      clusters,
    );
    expect(result.apps[0]!.manifests[0]!['data']).toEqual({ url: 'https://us-1.example' });
  });

  it.each([
    { name: 'a value holding YAML structure stays one string', value: 'x\nkind: Secret\n---\nfoo: &a [*a]' },
    { name: 'a value holding template syntax is not rendered again', value: '{{ cluster.name }}' },
    { name: 'a value holding a colon and a space stays one string', value: 'key: value' },
  ])('$name', ({ value }) => {
    const result = expandAppSet(appSet([{ list: { elements: [{ cluster: 'eu-1', evil: value }] } }], [configMap({ v: '{{ evil }}' })]), clusters);
    expect(result.issues).toEqual([]);
    expect(result.apps[0]!.manifests).toEqual([configMap({ v: value })]);
  });

  it.each<{ name: string; doc: AppSetDocument; code: string; path: string }>([
    {
      name: 'a missing parameter is an error, not an empty string',
      doc: appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({ v: '{{ nope }}' })]),
      code: 'TEMPLATE_ERROR',
      path: 'spec.template.manifests[0].data.v',
    },
    {
      name: 'an unknown filter is an error',
      doc: appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({ v: '{{ cluster.name | shout }}' })]),
      code: 'TEMPLATE_ERROR',
      path: 'spec.template.manifests[0].data.v',
    },
    {
      name: 'an include cannot read files',
      doc: appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({ v: "{% include '/etc/passwd' %}" })]),
      code: 'TEMPLATE_ERROR',
      path: 'spec.template.manifests[0].data.v',
    },
    {
      name: 'a list element naming an unregistered cluster is an error',
      doc: appSet([{ list: { elements: [{ cluster: 'nowhere' }] } }], [configMap({})]),
      code: 'UNKNOWN_CLUSTER',
      path: 'spec.generators[0].list.elements[0].cluster',
    },
    {
      name: 'two generators producing the same App for one cluster is an error',
      doc: appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }, { clusters: { selector: { matchLabels: { region: 'eu' } } } }], [configMap({})]),
      code: 'DUPLICATE_APP',
      path: 'spec.generators[1].clusters[eu-1]',
    },
    {
      name: 'an App name that is not a DNS label is an error',
      doc: appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({})], { name: 'Web_App' }),
      code: 'INVALID_APP_NAME',
      path: 'spec.template.name',
    },
  ])('$name', ({ doc, code, path }) => {
    const result = expandAppSet(doc, clusters);
    expect(result.apps).toEqual([]);
    expect(result.issues).toContainEqual(expect.objectContaining({ code, path }));
  });

  it('a matrix of three levels passes parameters down and keeps the target from the child that names it', () => {
    const doc = appSet(
      [
        {
          matrix: {
            generators: [
              { list: { elements: [{ region: 'eu' }] } },
              {
                matrix: {
                  generators: [
                    { matrix: { generators: [{ list: { elements: [{ env: 'dev' }] } }, { list: { elements: [{ tag: '{{ region }}-{{ env }}' }] } }] } },
                    { clusters: { selector: { matchLabels: { region: '{{ region }}', env: '{{ env }}' } } } },
                  ],
                },
              },
            ],
          },
        },
      ],
      [configMap({ tag: '{{ tag }}', who: '{{ cluster.name }}' })],
    );
    const result = expandAppSet(doc, clusters);
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => [a.clusterName, a.manifests[0]!['data']])).toEqual([['eu-2', { tag: 'eu-dev', who: 'eu-2' }]]);
  });

  it.each([
    { name: 'on a conflicting key the first child wins, as in Argo CD', first: { color: 'blue' }, later: { color: 'red' }, data: { v: '{{ color }}' }, want: { v: 'blue' } },
    {
      name: 'nested objects of both children survive',
      first: { values: { project: 'shop' } },
      later: { values: { suffix: '1' } },
      data: { v: '{{ values.project }}-{{ values.suffix }}' },
      want: { v: 'shop-1' },
    },
    { name: 'an empty value of the first child still wins', first: { flag: '' }, later: { flag: 'on' }, data: { v: 'x{{ flag }}' }, want: { v: 'x' } },
    { name: 'a list of the first child replaces the later one whole', first: { hosts: ['a'] }, later: { hosts: ['b', 'c'] }, data: { v: "{{ hosts | join: ',' }}" }, want: { v: 'a' } },
  ])('in a matrix, $name', ({ first, later, data, want }) => {
    const doc = appSet([{ matrix: { generators: [{ list: { elements: [{ cluster: 'eu-1', ...first }] } }, { list: { elements: [later] } }] } }], [configMap(data)]);
    const result = expandAppSet(doc, clusters);
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => [a.clusterName, a.manifests[0]!['data']])).toEqual([['eu-1', want]]);
  });

  it('in a matrix, the cluster comes from whichever child targets one, even the later', () => {
    const doc = appSet(
      [{ matrix: { generators: [{ list: { elements: [{ color: 'blue' }] } }, { list: { elements: [{ cluster: 'eu-1', color: 'red' }] } }] } }],
      [configMap({ color: '{{ color }}', who: '{{ cluster.name }}' })],
    );
    expect(expandAppSet(doc, clusters).apps.map((a) => [a.clusterName, a.manifests[0]!['data']])).toEqual([['eu-1', { color: 'blue', who: 'eu-1' }]]);
  });

  it('a matrix with an empty child yields nothing, without an issue', () => {
    const doc = appSet([{ matrix: { generators: [{ clusters: {} }, { list: { elements: [] } }] } }], [configMap({})]);
    expect(expandAppSet(doc, clusters)).toEqual({ apps: [], issues: [], needs: [] });
  });

  it('a matrix larger than the cap is refused while it is built', () => {
    const doc = appSet([{ matrix: { generators: [{ clusters: {} }, { list: { elements: [{ a: 1 }, { a: 2 }] } }] } }], [configMap({})]);
    const result = expandAppSet(doc, clusters, { ...DEFAULT_EXPANSION_LIMITS, maxParamSets: 4, maxAppBytes: 1e6, maxTemplateChars: 1000, maxRenderMs: 100, maxRenderMemory: 1e6 });
    expect(result.issues).toContainEqual(expect.objectContaining({ code: 'TOO_MANY_PARAM_SETS', path: 'spec.generators[0].matrix' }));
  });

  it('merge keys may be top-level parameters, and a base without a target takes the later target', () => {
    const doc = appSet(
      [
        {
          merge: {
            mergeKeys: ['app'],
            generators: [{ list: { elements: [{ app: 'a', color: 'blue' }] } }, { list: { elements: [{ app: 'a', cluster: 'us-1' }] } }],
          },
        },
      ],
      [configMap({ color: '{{ color }}' })],
    );
    const result = expandAppSet(doc, clusters);
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => a.clusterName)).toEqual(['us-1']);
  });

  it('merging sets that target different clusters is an issue', () => {
    const doc = appSet(
      [{ merge: { mergeKeys: ['app'], generators: [{ list: { elements: [{ app: 'a', cluster: 'eu-1' }] } }, { list: { elements: [{ app: 'a', cluster: 'us-1' }] } }] } }],
      [configMap({})],
    );
    expect(expandAppSet(doc, clusters).issues).toContainEqual(expect.objectContaining({ code: 'CONFLICTING_TARGET', path: 'spec.generators[0].merge' }));
  });

  it('one failing cluster yields no Apps at all (never a partial expansion)', () => {
    const doc = appSet([{ clusters: {} }], [configMap({ v: '{{ cluster.values.tier }}' })]);
    const result = expandAppSet(doc, clusters);
    expect(result.apps).toEqual([]);
    expect(result.issues.length).toBeGreaterThan(0);
  });

  it('a template typo repeated for every field and cluster comes back as one issue with its count, paths and clusters', () => {
    const doc = appSet([{ clusters: {} }], [configMap({ url: 'https://{{ valuse.host }}', host: '{{ valuse.host }}' })]);
    const result = expandAppSet(doc, clusters);
    expect(result.apps).toEqual([]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({
      code: 'TEMPLATE_ERROR',
      count: 6,
      paths: ['spec.template.manifests[0].data.url', 'spec.template.manifests[0].data.host'],
      clusters: expect.arrayContaining(['us-1', 'eu-1', 'eu-2']),
    });
    expect(result.issues[0]!.message).toMatch(/^undefined variable: valuse \(6 times: on 3 clusters \(.*\) at 2 paths \(.*\)\)$/);
  });

  it('more parameter sets than the cap is refused', () => {
    const doc = appSet([{ clusters: {} }], [configMap({})]);
    const result = expandAppSet(doc, clusters, { ...DEFAULT_EXPANSION_LIMITS, maxParamSets: 2, maxAppBytes: 1e6, maxTemplateChars: 1000, maxRenderMs: 100, maxRenderMemory: 1e6 });
    expect(result.apps).toEqual([]);
    expect(result.issues).toContainEqual(expect.objectContaining({ code: 'TOO_MANY_PARAM_SETS' }));
  });

  it('an App larger than the byte cap is refused', () => {
    const doc = appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({ big: 'x'.repeat(5000) })]);
    const result = expandAppSet(doc, clusters, { ...DEFAULT_EXPANSION_LIMITS, maxParamSets: 10, maxAppBytes: 1000, maxTemplateChars: 1000, maxRenderMs: 100, maxRenderMemory: 1e6 });
    expect(result.issues).toContainEqual(expect.objectContaining({ code: 'APP_TOO_LARGE' }));
  });

  it('an expansion running past its time budget is EXPANSION_TIME_LIMIT and yields no Apps', () => {
    let now = 0;
    const clock = () => (now += 400);
    const doc = appSet([{ clusters: {} }], [configMap({})]);
    const result = expandAppSet(doc, clusters, { ...DEFAULT_EXPANSION_LIMITS, maxExpansionMs: 1000 }, { clock });
    expect(result.apps).toEqual([]);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'EXPANSION_TIME_LIMIT' })]);
  });

  it('explain lists the generator elements of a matrix combination and the parameters with secrets redacted', () => {
    const doc = appSet(
      [{ matrix: { generators: [{ list: { elements: [{ dbPassword: 'hunter2-long', url: 'db://u:hunter2-long@db' }] } }, { clusters: { selector: { matchLabels: { region: 'us' } } } }] } }],
      [configMap({ url: '{{ url }}' })],
    );
    const [app] = expandAppSet(doc, clusters).apps;
    expect(app!.explain.sources).toEqual([
      { generator: 'spec.generators[0].matrix.generators[0].list', element: 'elements[0]' },
      { generator: 'spec.generators[0].matrix.generators[1].clusters', element: 'us-1' },
    ]);
    expect(app!.explain.parameters).toMatchObject({ dbPassword: '[redacted]', url: 'db://u:[redacted]@db', cluster: { name: 'us-1' } });
    expect(JSON.stringify(app!.explain)).not.toContain('hunter2');
  });

  it('explain of a merged set lists the base element and the element merged into it', () => {
    const doc = appSet(
      [{ merge: { mergeKeys: ['cluster.name'], generators: [{ clusters: {} }, { list: { elements: [{ cluster: 'eu-1', replicas: 5 }] } }] } }],
      [configMap({})],
    );
    const eu1 = expandAppSet(doc, clusters).apps.find((a) => a.clusterName === 'eu-1')!;
    expect(eu1.explain.sources.map((s) => [s.generator, s.element])).toEqual([
      ['spec.generators[0].merge.generators[0].clusters', 'eu-1'],
      ['spec.generators[0].merge.generators[1].list', 'elements[0]'],
    ]);
  });

  describe('manifests from a Git source', () => {
    const source = { repoURL: 'https://git.example.com/web.git', revision: 'main', path: 'deploy' };
    const doc: AppSetDocument = {
      apiVersion: 'flotilla.dev/v1alpha1',
      kind: 'AppSet',
      metadata: { name: 'web' },
      spec: { generators: [{ list: { elements: [{ cluster: 'eu-1' }] } }], template: { source } },
    };
    const files = {
      'deploy/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: { c: "{{ cluster.name }}" }\n',
      'deploy/b.yml': 'apiVersion: v1\nkind: Service\nmetadata: { name: b }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: b }\n',
    };
    const commit = 'd'.repeat(40);

    it('applies manifests from Git as read, {{ }} included, unless the source opts in', () => {
      const result = expandAppSet(doc, clusters, undefined, { git: completeGitSnapshot([{ ...source, commit, files }]) });
      expect(result.issues).toEqual([]);
      expect(result.apps[0]!.manifests.map((m) => [m['kind'], (m['metadata'] as { name: string }).name, m['data']])).toEqual([
        ['ConfigMap', 'a', { c: '{{ cluster.name }}' }],
        ['Service', 'b', undefined],
        ['ConfigMap', 'b', undefined],
      ]);
    });

    it('asks for the tree, then for the files, then with templated renders them like inline manifests', () => {
      const templated: AppSetDocument = { ...doc, spec: { ...doc.spec, template: { source: { ...source, templated: true } } } };
      expect(expandAppSet(templated, clusters, undefined, { git: EMPTY_GIT_SNAPSHOT }).needs).toEqual([{ kind: 'tree', repoURL: source.repoURL, revision: 'main' }]);
      const complete = completeGitSnapshot([{ ...source, commit, files }]);
      expect(expandAppSet(templated, clusters, undefined, { git: { trees: complete.trees, files: new Map() } }).needs.map((n) => (n.kind === 'file' ? n.path : ''))).toEqual([
        'deploy/a.yaml',
        'deploy/b.yml',
      ]);
      const result = expandAppSet(templated, clusters, undefined, { git: complete });
      expect(result.issues).toEqual([]);
      expect(result.apps[0]!.manifests.map((m) => [m['kind'], (m['metadata'] as { name: string }).name, m['data']])).toEqual([
        ['ConfigMap', 'a', { c: 'eu-1' }],
        ['Service', 'b', undefined],
        ['ConfigMap', 'b', undefined],
      ]);
      expect(result.apps[0]!.explain.git).toEqual([{ repoURL: source.repoURL, revision: 'main', commit }]);
    });

    it('an App over the byte cap is refused for Git manifests too', () => {
      const result = expandAppSet(doc, clusters, { ...DEFAULT_EXPANSION_LIMITS, maxAppBytes: 100 }, { git: completeGitSnapshot([{ ...source, commit, files }]) });
      expect(result.issues).toEqual([expect.objectContaining({ code: 'APP_TOO_LARGE', path: 'spec.template.source' })]);
    });
  });
});

describe('expandAppSet: Argo CD parity', () => {
  it('the cluster parameter carries Argo CD nameNormalized', () => {
    const result = expandAppSet(appSet([{ clusters: { selector: { matchLabels: { region: 'us' } } } }], [configMap({ n: '{{ cluster.nameNormalized }}' })]), clusters);
    expect(result.apps.map((a) => a.manifests[0]!['data'])).toEqual([{ n: 'us-1' }]);
  });

  it.each([
    { name: 'a document that is not a list', elementsYaml: 'cluster: eu-1', code: 'INVALID_ELEMENTS_YAML' },
    { name: 'a list of scalars', elementsYaml: '[a, b]', code: 'INVALID_ELEMENTS_YAML' },
    { name: 'YAML that does not parse', elementsYaml: '[{ cluster: eu-1 ', code: 'INVALID_ELEMENTS_YAML' },
    { name: 'an element naming an unknown cluster', elementsYaml: '[{ cluster: mars-1 }]', code: 'UNKNOWN_CLUSTER' },
  ])('elementsYaml holding $name is $code', ({ elementsYaml, code }) => {
    const result = expandAppSet(appSet([{ list: { elements: [], elementsYaml } }], [configMap({})]), clusters);
    expect(result.apps).toEqual([]);
    expect(result.issues).toEqual([expect.objectContaining({ code, path: expect.stringContaining('spec.generators[0].list.elementsYaml') })]);
  });

  it('top-level elementsYaml is literal, like elements', () => {
    const result = expandAppSet(appSet([{ list: { elements: [{ cluster: 'us-1', v: 'a' }], elementsYaml: '- { cluster: eu-1, v: "{{ x }}" }' } }], [configMap({ v: '{{ v }}' })]), clusters);
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => [a.clusterName, a.manifests[0]!['data']])).toEqual([
      ['eu-1', { v: '{{ x }}' }],
      ['us-1', { v: 'a' }],
    ]);
  });

  it('a merge deep-merges nested objects, the later set winning on a leaf', () => {
    const doc = appSet(
      [
        {
          merge: {
            mergeKeys: ['cluster.name'],
            generators: [
              { list: { elements: [{ cluster: 'eu-1', helm: { values: { replicas: 1, size: 'small' } } }] } },
              { list: { elements: [{ cluster: 'eu-1', helm: { values: { replicas: 5 } } }] } },
            ],
          },
        },
      ],
      [configMap({ replicas: '{{ helm.values.replicas }}', size: '{{ helm.values.size }}' })],
    );
    expect(expandAppSet(doc, clusters).apps.map((a) => a.manifests[0]!['data'])).toEqual([{ replicas: 5, size: 'small' }]);
  });

  it('a templatePatch problem is reported at spec.templatePatch with the cluster, and nothing is staged', () => {
    const doc = { ...appSet([{ clusters: {} }], [configMap({})]), spec: { ...appSet([{ clusters: {} }], [configMap({})]).spec, templatePatch: 'replicas: {{ cluster.name }}' } };
    const result = expandAppSet(doc, clusters);
    expect(result.apps).toEqual([]);
    expect(result.issues).toContainEqual(expect.objectContaining({ code: 'TEMPLATE_PATCH_INVALID', path: 'spec.templatePatch', message: expect.stringContaining('eu-1') }));
  });

  it('a manifest a templatePatch adds goes through the same checks as any other', () => {
    const base = appSet([{ list: { elements: [{ cluster: 'eu-1' }] } }], [configMap({})]);
    const doc = { ...base, spec: { ...base.spec, templatePatch: 'manifests: [{ kind: ConfigMap, metadata: { name: extra } }]' } };
    expect(expandAppSet(doc, clusters).issues).toEqual([expect.objectContaining({ code: 'INVALID_MANIFEST', path: 'spec.templatePatch.apiVersion' })]);
  });
});
