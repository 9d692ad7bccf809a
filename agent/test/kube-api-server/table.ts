import type { KubeObject } from './types.js';

/**
 * Server-side printing for kubectl's human-readable `get`: it asks for
 * `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the Table's columns. Every kind gets the
 * generic columns NAME and AGE (kube-apiserver adds per-kind columns that this server leaves out).
 */

/** True when the Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((entry) => /;\s*as=Table/.test(entry) && /;\s*g=meta\.k8s\.io/.test(entry));
}

/** kubectl's HumanDuration for the ages a test server sees: `45s`, `3m7s`, `25m`, `4h12m`, `3d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
}

/** A Table of `objects` (one row each, with its metadata as a PartialObjectMetadata). */
export function tableOf(objects: readonly KubeObject[], resourceVersion: string | undefined, now: number): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: resourceVersion === undefined ? {} : { resourceVersion },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Age', type: 'string', format: '', description: 'Time since the object was created.', priority: 0 },
    ],
    rows: objects.map((object) => {
      const created = Date.parse(object.metadata.creationTimestamp ?? '');
      return {
        cells: [object.metadata.name, Number.isNaN(created) ? '<unknown>' : humanDuration(now - created)],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { ...object.metadata, managedFields: undefined } },
      };
    }),
  };
}
