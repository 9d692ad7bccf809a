import { describe, expect, it } from 'vitest';
import type { AppSetDocument, SecretsSpec } from '../app-set/app-set-spec';
import { expandAppSet } from '../expand-app-set';
import type { ClusterSnapshot } from '../generators/param-set';
import { previewAppSet } from '../preview/preview-app-set';
import { keyedMarker } from './redaction';

// How the expansion and the preview treat secrets: refused literals, value-free issues, redacted diffs.

const CANARY = 'canary-7d1f0c9e2b';
const clusters: ClusterSnapshot[] = [{ name: 'eu-1', labels: { region: 'eu' }, values: {} }];
const mark = keyedMarker(Buffer.alloc(32, 3));

function appSet(element: Record<string, unknown>, manifests: Record<string, unknown>[], secrets?: SecretsSpec, name?: string): AppSetDocument {
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'AppSet',
    metadata: { name: 'web' },
    spec: { generators: [{ list: { elements: [{ cluster: 'eu-1', ...element }] } }], template: { ...(name ? { name } : {}), namespace: 'shop', manifests }, ...(secrets ? { secrets } : {}) },
  };
}

const secret = (stringData: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData });
const configMap = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data });

describe('expandAppSet and secrets', () => {
  it.each([
    { name: 'a literal Secret value is refused by default', doc: appSet({}, [secret({ password: CANARY })]), codes: ['INLINE_SECRET'] },
    { name: 'a literal value of a marked parameter is refused by default', doc: appSet({ pw: CANARY }, [configMap({ url: 'db://u:{{ pw }}@db' })], { parameters: ['pw'] }), codes: ['INLINE_SECRET'] },
    { name: 'a marked parameter holding a reference is accepted', doc: appSet({ pw: '((secret:shop/db/password))' }, [secret({ password: '{{ pw }}' })], { parameters: ['pw'] }), codes: [] },
    { name: 'allowInline accepts literal secrets', doc: appSet({ pw: CANARY }, [secret({ password: '{{ pw }}' })], { parameters: ['pw'], allowInline: true }), codes: [] },
  ])('$name', ({ doc, codes }) => {
    const result = expandAppSet(doc, clusters);
    expect(result.issues.map((i) => i.code)).toEqual(codes);
    expect(JSON.stringify(result.issues)).not.toContain(CANARY);
  });

  it('an issue that would echo the value of a marked parameter shows a marker instead', () => {
    const result = expandAppSet(appSet({ pw: 'Not_A_DNS_Label-' + CANARY }, [configMap({ a: 'b' })], { parameters: ['pw'], allowInline: true }, '{{ pw }}'), clusters);
    expect(result.issues.map((i) => i.code)).toEqual(['INVALID_APP_NAME']);
    expect(JSON.stringify(result.issues)).not.toContain(CANARY);
    expect(result.issues[0]!.message).toContain('<redacted>');
  });

  it('the explain of an App shows marked parameters redacted, and the rendered App carries their values for the output side', () => {
    const result = expandAppSet(appSet({ pw: CANARY }, [secret({ password: '{{ pw }}' })], { parameters: ['pw'], allowInline: true }), clusters);
    expect(result.apps[0]!.explain.parameters['pw']).toBe('[redacted]');
    expect(result.apps[0]!.secretValues).toEqual([CANARY]);
  });
});

describe('previewAppSet with a marker', () => {
  const expandWith = (value: string) => expandAppSet(appSet({ pw: value }, [configMap({ url: 'db://u:{{ pw }}@db' })], { parameters: ['pw'], allowInline: true }), clusters).apps;

  it('shows a changed secret parameter as a changed line of markers, never the values', () => {
    const before = expandWith(`${CANARY}-old`)[0]!;
    const preview = previewAppSet([{ clusterName: 'eu-1', appName: 'web', revision: before.revision, manifests: before.manifests }], expandWith(`${CANARY}-new`), mark);
    const diff = preview.clusters[0]!.changed[0]!.diff;
    expect(diff).not.toContain(CANARY);
    // The old value is not known any more: the old leaf, whose counterpart holds a secret, is marked whole.
    expect(diff).toContain(`-  url: ${mark(`db://u:${CANARY}-old@db`)}`);
    expect(diff).toContain(`+  url: db://u:${mark(`${CANARY}-new`)}@db`);
  });

  it("shows a Secret's data as markers on both sides of the diff", () => {
    const staged = [{ clusterName: 'eu-1', appName: 'web', revision: 'a'.repeat(64), manifests: [secret({ password: `${CANARY}-old` })] }];
    const next = expandAppSet(appSet({ pw: `${CANARY}-new` }, [secret({ password: '{{ pw }}' })], { parameters: ['pw'], allowInline: true }), clusters).apps;
    const diff = previewAppSet(staged, next, mark).clusters[0]!.changed[0]!.diff;
    expect(diff).not.toContain(CANARY);
    expect(diff).toContain(`-  password: ${mark(`${CANARY}-old`)}`);
    expect(diff).toContain(`+  password: ${mark(`${CANARY}-new`)}`);
  });
});
