import {
  APP_ANNOTATION,
  APP_LABEL,
  APP_SET_ANNOTATION,
  APPLY_ORDER_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  appLabelValue,
  describeRef,
  groupKindKey,
  isRecord,
  objectKey,
  parseApiVersion,
  recordAt,
  type KubeObject,
  type ObjectRef,
} from './object-ref.js';

/**
 * Turns an App's manifests into the objects the driver applies: identity checked, namespace filled in,
 * tracking labels and annotations added, apply order read.
 */

/** Whether a kind lives in namespaces, as discovery reports it, keyed by {@link kindScopeKey}. */
export type KindScopes = ReadonlyMap<string, boolean>;

/** Key of {@link KindScopes}: an apiVersion and a kind (`apps/v1 Deployment`). */
export function kindScopeKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

/** One object the driver applies. */
export interface DesiredObject {
  readonly ref: ObjectRef;
  readonly namespaced: boolean;
  /** The manifest as applied: namespace filled in, tracking labels and annotations added. */
  readonly body: KubeObject;
  /**
   * The body before secret references were resolved into it (core/kube/secret-references.ts); absent
   * when it held none. Only read to keep secret values out of drift reports.
   */
  readonly declared?: KubeObject;
  /** Position in the App's manifests (the tie-breaker of the apply order). */
  readonly index: number;
  /** The {@link APPLY_ORDER_ANNOTATION} value; 0 when absent. */
  readonly order: number;
  /** Name of the App's own CustomResourceDefinition that defines this object's kind, if any. */
  readonly definedByCrd?: string;
}

/** What is known about the App whose manifests are prepared. */
export interface AppIdentity {
  readonly appName: string;
  readonly appSet: string;
  /** Namespace of namespaced objects that name none ('' when the App has none). */
  readonly namespace: string;
}

/** A manifest that cannot be applied, by position. */
export interface ManifestProblem {
  readonly index: number;
  readonly message: string;
}

/** Result of {@link prepareObjects}: every object, or every problem (sorted by position). */
export type PreparedObjects =
  | { readonly ok: true; readonly objects: readonly DesiredObject[] }
  | { readonly ok: false; readonly problems: readonly ManifestProblem[]; readonly unknownKinds: readonly string[] };

interface CrdDefinition {
  readonly name: string;
  readonly namespaced: boolean;
  readonly versions: ReadonlySet<string>;
}

const INTEGER = /^[-+]?\d{1,15}$/;

/**
 * Prepares the objects of an App. `scopes` says for each apiVersion and kind that discovery knows
 * whether it is namespaced; kinds that the App's own CustomResourceDefinitions define are taken from
 * those definitions. Every problem is reported at once, never a partial list: an App with one bad
 * manifest applies nothing. `unknownKinds` lists the `apiVersion Kind` pairs nobody defines (they may
 * appear later, when another App installs their definition).
 *
 * An object declared twice is one object: the later declaration wins, as a second apply would.
 * Tracking labels and annotations the manifest sets itself are overwritten, so that an App cannot
 * claim or hide another App's objects.
 */
export function prepareObjects(app: AppIdentity, manifests: readonly KubeObject[], scopes: KindScopes): PreparedObjects {
  const crds = crdDefinitions(manifests);
  const problems: ManifestProblem[] = [];
  const unknownKinds = new Set<string>();
  const objects = new Map<string, DesiredObject>();

  manifests.forEach((manifest, index) => {
    const problem = (message: string): void => {
      problems.push({ index, message: `manifests[${index}]: ${message}` });
    };
    const apiVersion = manifest['apiVersion'];
    const kind = manifest['kind'];
    const metadata = manifest['metadata'];
    if (typeof apiVersion !== 'string' || parseApiVersion(apiVersion) === undefined) return problem('apiVersion must be `version` or `group/version`');
    if (typeof kind !== 'string' || kind === '') return problem('kind is required');
    if (!isRecord(metadata)) return problem(`${kind}: metadata is required`);
    const name = metadata['name'];
    if (typeof name !== 'string' || name === '') {
      return problem(`${kind}: metadata.name is required (generateName cannot be applied idempotently)`);
    }
    const { group, version } = parseApiVersion(apiVersion) ?? { group: '', version: '' };

    const crd = crds.get(groupKindKey({ group, kind }));
    const known = scopes.get(kindScopeKey(apiVersion, kind));
    let namespaced: boolean;
    if (known !== undefined) namespaced = known;
    else if (crd !== undefined && crd.versions.has(version)) namespaced = crd.namespaced;
    else {
      unknownKinds.add(kindScopeKey(apiVersion, kind));
      return problem(`${kind} ${name}: the cluster serves no kind ${kind} in ${apiVersion}`);
    }

    const declared = metadata['namespace'];
    if (declared !== undefined && typeof declared !== 'string') return problem(`${kind} ${name}: metadata.namespace must be a string`);
    let namespace = '';
    if (namespaced) {
      namespace = declared === undefined || declared === '' ? app.namespace : declared;
      if (namespace === '') return problem(`${kind} ${name} names no namespace and the App has none`);
    } else if (declared !== undefined && declared !== '') {
      return problem(`${kind} ${name} is cluster-scoped but names namespace ${JSON.stringify(declared)}`);
    }

    const orderText = recordAt(metadata, 'annotations')?.[APPLY_ORDER_ANNOTATION];
    let order = 0;
    if (orderText !== undefined) {
      if (typeof orderText !== 'string' || !INTEGER.test(orderText.trim())) {
        return problem(`${kind} ${name}: annotation ${APPLY_ORDER_ANNOTATION} must be an integer; got ${JSON.stringify(orderText)}`);
      }
      order = Number(orderText.trim());
    }

    const ref: ObjectRef = { apiVersion, group, version, kind, namespace, name };
    const object: DesiredObject = {
      ref,
      namespaced,
      body: withTracking(manifest, metadata, namespace, app),
      index,
      order,
      ...(crd !== undefined ? { definedByCrd: crd.name } : {}),
    };
    objects.set(objectKey(ref), object);
  });

  if (problems.length > 0) return { ok: false, problems, unknownKinds: [...unknownKinds].sort() };
  return { ok: true, objects: [...objects.values()].sort((a, b) => a.index - b.index) };
}

/** A one-line summary of problems for a status message. */
export function summarizeProblems(problems: readonly ManifestProblem[], max = 5): string {
  const shown = problems.slice(0, max).map((problem) => problem.message);
  const more = problems.length > max ? `; and ${problems.length - max} more` : '';
  return `${problems.length} manifest${problems.length === 1 ? '' : 's'} cannot be applied: ${shown.join('; ')}${more}`;
}

/** Names objects for messages, at most `max` of them. */
export function listRefs(refs: readonly Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>[], max = 5): string {
  const shown = refs.slice(0, max).map(describeRef).join(', ');
  return refs.length > max ? `${shown} and ${refs.length - max} more` : shown;
}

function withTracking(manifest: KubeObject, metadata: Readonly<Record<string, unknown>>, namespace: string, app: AppIdentity): KubeObject {
  const labels = { ...(recordAt(metadata, 'labels') ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [APP_LABEL]: appLabelValue(app.appName) };
  const annotations: Record<string, unknown> = { ...(recordAt(metadata, 'annotations') ?? {}), [APP_ANNOTATION]: app.appName };
  if (app.appSet !== '') annotations[APP_SET_ANNOTATION] = app.appSet;
  else delete annotations[APP_SET_ANNOTATION];
  const { namespace: _declared, ...rest } = metadata;
  return {
    ...structuredClone(manifest),
    metadata: { ...structuredClone(rest), ...(namespace !== '' ? { namespace } : {}), labels, annotations },
  };
}

// The kinds the App's own CustomResourceDefinitions define, keyed by group/Kind.
function crdDefinitions(manifests: readonly KubeObject[]): Map<string, CrdDefinition> {
  const crds = new Map<string, CrdDefinition>();
  for (const manifest of manifests) {
    if (manifest['kind'] !== 'CustomResourceDefinition' || typeof manifest['apiVersion'] !== 'string') continue;
    if (!manifest['apiVersion'].startsWith('apiextensions.k8s.io/')) continue;
    const spec = recordAt(manifest, 'spec');
    const group = spec?.['group'];
    const kind = recordAt(spec, 'names')?.['kind'];
    const name = recordAt(manifest, 'metadata')?.['name'];
    const versions = Array.isArray(spec?.['versions']) ? spec['versions'] : [];
    if (typeof group !== 'string' || typeof kind !== 'string' || typeof name !== 'string') continue;
    const served = new Set<string>();
    for (const version of versions) {
      if (isRecord(version) && typeof version['name'] === 'string' && version['served'] !== false) served.add(version['name']);
    }
    crds.set(groupKindKey({ group, kind }), { name, namespaced: spec?.['scope'] !== 'Cluster', versions: served });
  }
  return crds;
}
