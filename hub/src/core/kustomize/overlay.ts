import { stringify } from 'yaml';
import type { KustomizeRequest } from './kustomize-render';

/**
 * The text of the `kustomization.yaml` the hub writes next to the materialised repository: `resource`
 * (the source directory, relative to the overlay's folder) as its one resource, and the request's
 * namespace, name prefix and suffix, common labels, images and patches. Patches are inlined as YAML
 * text (an object is a strategic-merge patch, a list a JSON 6902 patch), so kustomize reads no file
 * of ours but the source. Field order is fixed: equal requests give equal text.
 */
export function kustomizationOverlay(request: KustomizeRequest, resource: string): string {
  const overlay: Record<string, unknown> = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [resource] };
  if (request.namespace !== undefined) overlay['namespace'] = request.namespace;
  if (request.namePrefix !== undefined) overlay['namePrefix'] = request.namePrefix;
  if (request.nameSuffix !== undefined) overlay['nameSuffix'] = request.nameSuffix;
  if (request.commonLabels !== undefined && Object.keys(request.commonLabels).length > 0) overlay['commonLabels'] = request.commonLabels;
  if (request.images !== undefined && request.images.length > 0) {
    overlay['images'] = request.images.map((image) => ({
      name: image.name,
      ...(image.newName !== undefined ? { newName: image.newName } : {}),
      ...(image.newTag !== undefined ? { newTag: image.newTag } : {}),
      ...(image.digest !== undefined ? { digest: image.digest } : {}),
    }));
  }
  if (request.patches !== undefined && request.patches.length > 0) {
    overlay['patches'] = request.patches.map((patch) => ({ patch: stringify(patch.patch), ...(patch.target ? { target: patch.target } : {}) }));
  }
  return stringify(overlay);
}
