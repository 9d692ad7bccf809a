import { issue, type Issue } from '../issues';
import { mergePatch } from '../overrides/apply-overrides';
import type { TemplateRenderer } from './template-renderer';

/** An App's template once rendered: what `templatePatch` patches. */
export interface RenderedTemplate {
  readonly name: unknown;
  readonly namespace: unknown;
  readonly manifests: readonly Record<string, unknown>[];
}

const PATH = 'spec.templatePatch';
const KEYS = new Set(['name', 'namespace', 'manifests']);

/**
 * Applies `spec.templatePatch` (Argo CD's `templatePatch`, for Flotilla's template) to one App's
 * rendered template. The patch text is rendered over the App's parameters as a YAML document (see
 * `TemplateRenderer.renderYaml`: parameters can never add structure) and must be a mapping of
 * `name`, `namespace` (strings, replace) and `manifests` (a list of objects): each is merged as a JSON
 * merge patch (objects merge, `null` deletes, lists replace) into the manifest of the same `kind` and
 * `metadata.name`, or appended when the App has none. An empty rendering patches nothing. Never
 * mutates its input; issues are at `spec.templatePatch`.
 */
export function applyTemplatePatch(
  template: RenderedTemplate,
  text: string,
  params: Readonly<Record<string, unknown>>,
  renderer: TemplateRenderer,
): RenderedTemplate | { issues: Issue[] } {
  const rendered = renderer.renderYaml(text, params, PATH);
  if (rendered.issues.length > 0) return { issues: rendered.issues };
  if (rendered.value === undefined || rendered.value === null) return template;
  const patch = rendered.value as Record<string, unknown>;
  const unknown = Object.keys(patch).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) return invalid(`The rendered patch may only set name, namespace and manifests, not ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}.`);
  for (const key of ['name', 'namespace'] as const) {
    if (key in patch && typeof patch[key] !== 'string') return invalid(`The rendered patch's ${key} must be a string.`);
  }
  let manifests = [...template.manifests];
  if ('manifests' in patch) {
    const items = patch['manifests'];
    if (!Array.isArray(items)) return invalid("The rendered patch's manifests must be a list of objects.");
    for (const [index, item] of items.entries()) {
      const identity = isPlainObject(item) ? identityOf(item) : undefined;
      if (!isPlainObject(item) || identity === undefined) return invalid(`manifests[${index}] of the rendered patch must be an object with kind and metadata.name.`);
      const at = manifests.findIndex((manifest) => identityOf(manifest) === identity);
      if (at === -1) manifests.push(mergePatch({}, item) as Record<string, unknown>);
      else manifests = manifests.map((manifest, i) => (i === at ? (mergePatch(manifest, item) as Record<string, unknown>) : manifest));
    }
  }
  return {
    name: 'name' in patch ? patch['name'] : template.name,
    namespace: 'namespace' in patch ? patch['namespace'] : template.namespace,
    manifests,
  };
}

function invalid(message: string): { issues: Issue[] } {
  return { issues: [issue('TEMPLATE_PATCH_INVALID', PATH, message)] };
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
