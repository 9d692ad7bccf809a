import type { GeneratorTemplateSpec, ManifestSourceSpec, TemplateSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';

/** The template of one App, with where each of its fields is written in the document. */
export interface EffectiveTemplate {
  readonly template: TemplateSpec;
  /** The document path of a field: the generator template's when it set the field, else `spec.template`'s. */
  readonly pathOf: (field: 'name' | 'namespace' | 'manifests' | 'source' | 'overrides') => string;
}

/**
 * `spec.template` with a top-level generator's `template` laid over it (Argo CD's generator
 * templates): each field the generator template sets replaces the spec's; `source` is merged field by
 * field with the spec's `source`; `manifests` there drop the spec's `source` and `source` there drops
 * the spec's `manifests` (an App has exactly one of the two). A merged `source` without `repoURL` or
 * `path` is the issue `INVALID_TEMPLATE_OVERRIDE` at the generator template.
 */
export function effectiveTemplate(
  spec: TemplateSpec,
  override: { readonly spec: GeneratorTemplateSpec; readonly path: string } | undefined,
): EffectiveTemplate | Issue {
  if (!override) return { template: spec, pathOf: (field) => childPath('spec.template', field) };
  const own = override.spec;
  const pathOf = (field: 'name' | 'namespace' | 'manifests' | 'source' | 'overrides') =>
    own[field] !== undefined ? childPath(override.path, field) : childPath('spec.template', field);
  const { manifests: _m, source: _s, kustomize: _k, helm: _h, ...rest } = spec;
  const base = { ...rest, ...(own.name !== undefined ? { name: own.name } : {}), ...(own.namespace !== undefined ? { namespace: own.namespace } : {}) };
  const overrides = own.overrides ?? spec.overrides;
  const withOverrides = overrides ? { ...base, overrides } : base;
  if (own.manifests) return { template: { ...withOverrides, manifests: own.manifests }, pathOf };
  if (own.source) {
    const merged = { ...(spec.source ?? {}), ...own.source };
    if (typeof merged.repoURL !== 'string' || typeof merged.path !== 'string') {
      return issue('INVALID_TEMPLATE_OVERRIDE', childPath(override.path, 'source'), 'The generator template gives a source, but with spec.template it has no repoURL and path; give both.');
    }
    return { template: { ...withOverrides, source: merged as ManifestSourceSpec }, pathOf };
  }
  return {
    template: { ...withOverrides, ...(spec.manifests ? { manifests: spec.manifests } : {}), ...(spec.source ? { source: spec.source } : {}), ...(spec.kustomize ? { kustomize: spec.kustomize } : {}), ...(spec.helm ? { helm: spec.helm } : {}) },
    pathOf,
  };
}
