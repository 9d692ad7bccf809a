/**
 * Names of Kubernetes objects as the agent's Kubernetes driver sees them, and the labels and
 * annotations that mark an object as managed by an App.
 */

/** Field manager of every server-side apply the agent makes. */
export const FIELD_MANAGER = 'flotilla-agent';

/** Label on every managed object; the watches select on it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Value of {@link MANAGED_BY_LABEL}. */
export const MANAGED_BY_VALUE = 'flotilla';
/** Label naming the App that owns an object (a label-safe form of the name, see {@link appLabelValue}). */
export const APP_LABEL = 'flotilla.dev/app';
/** Annotation holding the App's full name (the label may be a shortened form). */
export const APP_ANNOTATION = 'flotilla.dev/app';
/** Annotation holding the AppSet the App was expanded from. */
export const APP_SET_ANNOTATION = 'flotilla.dev/app-set';
/** Optional per-object annotation: an integer, lower applied first within its phase. */
export const APPLY_ORDER_ANNOTATION = 'flotilla.dev/apply-order';

/** An API group and kind, e.g. `{ group: 'apps', kind: 'Deployment' }`; the core group is ''. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** Identity of one object: where it lives and what it is. `namespace` is '' for cluster-scoped objects. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** A live or desired object as plain JSON. */
export type KubeObject = Readonly<Record<string, unknown>>;

/** Splits an apiVersion into group and version (`v1` → core group ''). Undefined when malformed. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } | undefined {
  const parts = apiVersion.split('/');
  if (parts.length === 1 && parts[0] !== '') return { group: '', version: parts[0] ?? '' };
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return undefined;
}

/** `group/Kind` (`Kind` for the core group): the key under which kinds are scoped and remembered. */
export function groupKindKey({ group, kind }: GroupKind): string {
  return group === '' ? kind : `${group}/${kind}`;
}

/**
 * A stable key for an object that ignores its version: the same object read through `apps/v1` or a
 * later version is one object.
 */
export function objectKey(ref: Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>): string {
  return `${ref.group}/${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** A human name for messages: `Deployment shop/web`, `Namespace shop`, `Widget.example.com shop/w`. */
export function describeRef(ref: Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>): string {
  const kind = ref.group === '' ? ref.kind : `${ref.kind}.${ref.group}`;
  return ref.namespace === '' ? `${kind} ${ref.name}` : `${kind} ${ref.namespace}/${ref.name}`;
}

/** Orders refs by group, kind, namespace and name. */
export function compareRefs(a: Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>, b: Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>): number {
  return compareText(a.group, b.group) || compareText(a.kind, b.kind) || compareText(a.namespace, b.namespace) || compareText(a.name, b.name);
}

/** The ref of a JSON object, or undefined when it lacks apiVersion, kind or metadata.name. */
export function refOf(object: KubeObject): ObjectRef | undefined {
  const apiVersion = object['apiVersion'];
  const kind = object['kind'];
  const metadata = recordAt(object, 'metadata');
  const name = metadata?.['name'];
  const namespace = metadata?.['namespace'];
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || kind === '' || typeof name !== 'string' || name === '') return undefined;
  const parsed = parseApiVersion(apiVersion);
  if (parsed === undefined) return undefined;
  return { apiVersion, ...parsed, kind, namespace: typeof namespace === 'string' ? namespace : '', name };
}

// Label values: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.` inside.
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/**
 * The value of {@link APP_LABEL} for an App. App names are DNS subdomains of up to 253 characters, label
 * values at most 63: a longer name becomes its first 46 characters, `-` and a 16-hex-digit FNV-1a hash
 * of the whole name, so that two long names sharing a prefix still select different objects. The full
 * name is kept in {@link APP_ANNOTATION} and checked before anything is pruned.
 */
export function appLabelValue(appName: string): string {
  if (appName.length <= 63 && LABEL_VALUE.test(appName)) return appName;
  const prefix = appName.slice(0, 46).replace(/[^A-Za-z0-9]+$/, '');
  return `${prefix}-${fnv1a64(appName)}`;
}

/** The label selector of every managed object. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** The label selector of one App's objects. */
export function appSelector(appName: string): string {
  return `${MANAGED_SELECTOR},${APP_LABEL}=${appLabelValue(appName)}`;
}

/** The App a live object belongs to (its annotation, else its label), or undefined when unmanaged. */
export function appOfObject(object: KubeObject): string | undefined {
  const metadata = recordAt(object, 'metadata');
  const labels = recordAt(metadata, 'labels');
  if (labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return undefined;
  const annotated = recordAt(metadata, 'annotations')?.[APP_ANNOTATION];
  if (typeof annotated === 'string' && annotated !== '') return annotated;
  const label = labels[APP_LABEL];
  return typeof label === 'string' && label !== '' ? label : undefined;
}

/** `object[key]` when it is a plain object. */
export function recordAt(object: Readonly<Record<string, unknown>> | undefined, key: string): Readonly<Record<string, unknown>> | undefined {
  const value = object?.[key];
  return isRecord(value) ? value : undefined;
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// 64-bit FNV-1a over UTF-16 code units, as hex. Not cryptographic: it only keeps long names apart.
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}
