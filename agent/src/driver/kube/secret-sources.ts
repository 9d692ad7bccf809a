import type { DesiredObject } from '../../core/kube/desired-objects.js';
import { isRecord, parseApiVersion } from '../../core/kube/object-ref.js';
import { referencedSecrets, referencesOutsideScope, resolveSecretReferences, sourceKey } from '../../core/kube/secret-references.js';
import type { AppSpec } from '../cluster-driver.js';
import { KubeApiError, messageOf } from './kube-client.js';
import { readObject } from './object-operations.js';
import type { DriverContext } from './tracked-app.js';

/** The outcome of {@link resolveSecretSources}. */
export type SecretResolution =
  | { readonly kind: 'resolved'; readonly objects: readonly DesiredObject[]; readonly values: readonly string[] }
  | { readonly kind: 'failed'; readonly message: string; readonly retry: 'fixable' | 'transient' };

/**
 * Reads the Secrets the App's objects reference (core/kube/secret-references.ts) from this cluster and
 * puts their values in place. A reference outside the App's namespaces, a missing Secret or key fails
 * the App with a message that names the reference and never a value (fixable: the Secret may appear
 * later, e.g. made by External Secrets); an unreachable API server is transient. Objects without a
 * reference come back as they were.
 */
export async function resolveSecretSources(ctx: DriverContext, spec: AppSpec, objects: readonly DesiredObject[]): Promise<SecretResolution> {
  const references = referencedSecrets(objects.map((o) => o.body));
  if (references.length === 0) return { kind: 'resolved', objects, values: [] };
  const outside = referencesOutsideScope(references, { app: spec.syncPolicy.scope, project: spec.syncPolicy.projectScope }, spec.namespace);
  if (outside.length > 0) return { kind: 'failed', message: `refused: ${outside.join('; ')}`, retry: 'fixable' };
  const sources = new Map<string, Readonly<Record<string, string>> | undefined>();
  try {
    const type = await ctx.discovery.resolve('v1', 'Secret');
    if (type === undefined) return { kind: 'failed', message: 'the cluster serves no kind Secret in v1', retry: 'fixable' };
    const { group, version } = parseApiVersion('v1') ?? { group: '', version: 'v1' };
    for (const reference of references) {
      const live = await readObject(ctx.client, type, { apiVersion: 'v1', group, version, kind: 'Secret', namespace: reference.namespace, name: reference.name });
      sources.set(sourceKey(reference), live === undefined ? undefined : stringData(live['data']));
    }
  } catch (error) {
    const transient = !(error instanceof KubeApiError) || error.isTransient;
    // A 403 says the agent's RBAC does not let it read that Secret: fixable in the cluster.
    return { kind: 'failed', message: `cannot read the referenced Secrets: ${messageOf(error)}`, retry: transient ? 'transient' : 'fixable' };
  }
  const resolved = resolveSecretReferences(objects.map((o) => o.body), sources);
  if (!resolved.ok) return { kind: 'failed', message: resolved.problems.join('; '), retry: 'fixable' };
  return {
    kind: 'resolved',
    objects: objects.map((object, i) => {
      const body = resolved.bodies[i]!;
      return body === object.body ? object : { ...object, body, declared: object.body };
    }),
    values: resolved.values,
  };
}

function stringData(data: unknown): Record<string, string> {
  if (!isRecord(data)) return {};
  return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
