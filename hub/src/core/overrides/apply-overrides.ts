import type { OverrideSpec } from '../app-set/app-set-spec';
import { matchesSelector } from '../generators/label-selector';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';

/** The cluster an App targets, as overrides see it. */
export interface OverrideTarget {
  readonly labels: Readonly<Record<string, string>>;
  /** The App's ParamSet parameters; patch string leaves are rendered over them. */
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Applies `spec.template.overrides` in order to one App's rendered manifests. An override applies
 * when its `selector` matches the target cluster's labels (absent or empty matches all). Its patch's
 * string leaves are rendered over the App's parameters, then merged with `mergePatch`: into the one
 * manifest with the same `kind` and `metadata.name` when the patch names both (no such manifest is
 * the issue `OVERRIDE_NO_TARGET`), else into every manifest. Returns new manifests; never mutates input.
 */
export function applyOverrides(
  manifests: readonly Record<string, unknown>[],
  overrides: readonly OverrideSpec[],
  target: OverrideTarget,
  renderer: TemplateRenderer,
): { manifests: Record<string, unknown>[]; issues: Issue[] } {
  let out = [...manifests];
  const issues: Issue[] = [];
  overrides.forEach((override, index) => {
    if (!matchesSelector(target.labels, override.selector)) return;
    const path = childPath(childPath('spec.template.overrides', index), 'patch');
    const rendered = renderer.renderTree(override.patch, target.params, path);
    if (rendered.issues.length > 0) {
      issues.push(...rendered.issues);
      return;
    }
    const patch = rendered.value as Record<string, unknown>;
    const identity = identityOf(patch);
    if (identity === undefined) {
      out = out.map((manifest) => mergePatch(manifest, patch) as Record<string, unknown>);
      return;
    }
    let found = false;
    out = out.map((manifest) => {
      if (identityOf(manifest) !== identity) return manifest;
      found = true;
      return mergePatch(manifest, patch) as Record<string, unknown>;
    });
    if (!found) issues.push(issue('OVERRIDE_NO_TARGET', path, `No manifest has the kind and name ${identity} that the patch names.`));
  });
  return { manifests: out, issues };
}

/**
 * A JSON merge patch (RFC 7386 flavour): objects merge recursively, `null` deletes a key, anything
 * else (arrays included) replaces. Returns a new value; never mutates either argument.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** `Kind/name` when the object names both, else undefined. */
function identityOf(object: Readonly<Record<string, unknown>>): string | undefined {
  const metadata = object['metadata'];
  const name = isPlainObject(metadata) ? metadata['name'] : undefined;
  const kind = object['kind'];
  return typeof kind === 'string' && typeof name === 'string' ? `${kind}/${name}` : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
