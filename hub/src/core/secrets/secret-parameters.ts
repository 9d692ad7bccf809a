import type { AppSetDocument, GeneratorSpec } from '../app-set/app-set-spec';
import { hasSecretReference } from './secret-reference';
import { redactManifest, redactStrings, SECRET_DATA_FIELDS, type Marker } from './redaction';

/** A literal value of a parameter marked secret (`spec.secrets.parameters`). */
export interface SecretParameterValue {
  /** The marked path, as written (`dbPassword`, `cluster.values.apiKey`). */
  readonly path: string;
  readonly value: string;
}

/**
 * The literal values of the parameters at `paths` in one ParamSet's parameters: every scalar leaf at
 * (or under) each path, as a string. Values holding a secret reference are not secret and are left
 * out, as are empty strings and paths the parameters do not have. Sorted by path, then value.
 */
export function secretParameterValues(params: Readonly<Record<string, unknown>>, paths: readonly string[]): SecretParameterValue[] {
  const out: SecretParameterValue[] = [];
  for (const path of paths) {
    for (const value of leaves(valueAt(params, path))) if (value !== '' && !hasSecretReference(value)) out.push({ path, value });
  }
  return out.sort((a, b) => compare(a.path, b.path) || compare(a.value, b.value));
}

/**
 * A copy of an AppSet document safe to show (revision YAML, revision diffs): Secret `data`/`stringData`
 * values of inline manifests and of override patches that may reach a Secret (those naming kind Secret
 * or no kind) become markers, and so do the literal values written in the document for parameters
 * marked secret (list elements, generator `values`), wherever they appear in it. References stay.
 */
export function redactAppSetDocument(document: AppSetDocument, mark: Marker): AppSetDocument {
  const paths = document.spec.secrets?.parameters ?? [];
  const secrets = paths.length > 0 ? [...new Set(documentSecretValues(document.spec.generators, paths))] : [];
  const template = document.spec.template;
  const redacted = redactStrings(document, secrets, mark) as AppSetDocument;
  return {
    ...redacted,
    spec: {
      ...redacted.spec,
      template: {
        ...redacted.spec.template,
        ...(template.manifests ? { manifests: template.manifests.map((m) => redactManifest(m, secrets, mark) as Record<string, unknown>) } : {}),
        ...(template.overrides
          ? { overrides: template.overrides.map((o, i) => ({ ...redacted.spec.template.overrides![i]!, patch: redactPatch(o.patch, secrets, mark) })) }
          : {}),
      },
    },
  };
}

/** Literal values written in the document at the marked paths, through matrix and merge children. */
function documentSecretValues(generators: readonly GeneratorSpec[], paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const generator of generators) {
    if ('list' in generator) for (const element of generator.list.elements) out.push(...secretParameterValues(element, paths).map((v) => v.value));
    if ('matrix' in generator) out.push(...documentSecretValues(generator.matrix.generators, paths));
    if ('merge' in generator) out.push(...documentSecretValues(generator.merge.generators, paths));
    const values = 'clusters' in generator ? generator.clusters.values : 'git' in generator ? generator.git.values : undefined;
    if (values) out.push(...secretParameterValues({ values }, paths).map((v) => v.value));
  }
  return out;
}

/** A patch may land on a Secret when it names kind Secret or no kind at all (it then applies to every object). */
function redactPatch(patch: Readonly<Record<string, unknown>>, secrets: readonly string[], mark: Marker): Record<string, unknown> {
  const kind = patch['kind'];
  if (kind !== undefined && kind !== 'Secret') return redactStrings(patch, secrets, mark) as Record<string, unknown>;
  const asSecret = redactManifest({ ...patch, kind: 'Secret' }, secrets, mark) as Record<string, unknown>;
  const out = { ...(redactStrings(patch, secrets, mark) as Record<string, unknown>) };
  for (const field of SECRET_DATA_FIELDS) if (field in patch) out[field] = asSecret[field];
  return out;
}

function valueAt(params: Readonly<Record<string, unknown>>, path: string): unknown {
  let node: unknown = params;
  for (const segment of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.prototype.hasOwnProperty.call(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

function leaves(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
