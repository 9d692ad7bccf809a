import { expect } from 'vitest';
import { NAMESPACE, type Manifest } from './helm.js';

/** Accessors of rendered charts (the one Deployment, its pod and container) and the kubelet's env resolution. */

export interface Container {
  name: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: object; limits?: object };
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Record<string, unknown>[];
}

export const byKind = (manifests: readonly Manifest[], kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
export const deploymentOf = (manifests: readonly Manifest[]): Manifest => {
  const deployments = byKind(manifests, 'Deployment');
  expect(deployments).toHaveLength(1);
  return deployments[0]!;
};
export const podSpecOf = (deployment: Manifest): PodSpec => (deployment['spec'] as { template: { spec: PodSpec } }).template.spec;
export const containerOf = (manifests: readonly Manifest[]): Container => podSpecOf(deploymentOf(manifests)).containers[0]!;
export const envOf = (container: Container, name: string) => container.env?.find((entry) => entry.name === name);

export const POD_NAME = 'flotilla-7d9f8c6b5-x2k4q';

/**
 * Resolves a container's env as the kubelet would: for a secretKeyRef, `secrets` itself or its entry
 * for the Secret's name; the release namespace and {@link POD_NAME} for the downward API.
 */
export function resolveEnv(container: Container, secrets: string | Record<string, string>): Record<string, string> {
  const field: Record<string, string> = { 'metadata.namespace': NAMESPACE, 'metadata.name': POD_NAME };
  return Object.fromEntries(
    (container.env ?? []).map((entry) => {
      const ref = entry.valueFrom?.secretKeyRef;
      if (ref) return [entry.name, typeof secrets === 'string' ? secrets : (secrets[ref.name] ?? '')];
      if (entry.valueFrom?.fieldRef) return [entry.name, field[entry.valueFrom.fieldRef.fieldPath] ?? ''];
      return [entry.name, entry.value ?? ''];
    }),
  );
}

// Variables that carry a secret: they must come from a Secret, never as a literal in the Deployment.
export const SECRET_VARIABLES = ['FLOTILLA_BOOTSTRAP_TOKEN', 'FLOTILLA_NATS_ENROLLMENT_JWT', 'FLOTILLA_NATS_PASSWORD', 'DATABASE_URL', 'FLOTILLA_BOOTSTRAP_ADMIN_TOKEN', 'FLOTILLA_CA_ENCRYPTION_KEY'];
