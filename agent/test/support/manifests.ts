import { canonicalJson, revisionOf } from '@flotilla/proto';
import type { Manifest } from '../../src/core/desired-state.js';

/** A small, valid set of manifests for App `name`, with its canonical JSON and revision. */
export function manifestsFor(name: string, version = 'v1'): { manifests: Manifest[]; manifestsJson: string; revision: string } {
  const manifests: Manifest[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config` }, data: { version } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas: 1 } },
  ];
  return { manifests, manifestsJson: canonicalJson(manifests), revision: revisionOf(manifests) };
}
