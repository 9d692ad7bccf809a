import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { Manifest } from './helm.js';

interface Validatable {
  validate(): void;
}

/** Kubernetes OpenAPI validators by `apiVersion/kind` for every kind the charts render. */
const VALIDATORS: Record<string, (manifest: Manifest) => Validatable> = {
  'apps/v1/Deployment': (m) => new Deployment(m as never),
  'v1/Service': (m) => new Service(m as never),
  'v1/ServiceAccount': (m) => new ServiceAccount(m as never),
  'v1/Secret': (m) => new Secret(m as never),
  'v1/ConfigMap': (m) => new ConfigMap(m as never),
  'v1/PersistentVolumeClaim': (m) => new PersistentVolumeClaim(m as never),
  'rbac.authorization.k8s.io/v1/Role': (m) => new Role(m as never),
  'rbac.authorization.k8s.io/v1/RoleBinding': (m) => new RoleBinding(m as never),
  'rbac.authorization.k8s.io/v1/ClusterRole': (m) => new ClusterRole(m as never),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (m) => new ClusterRoleBinding(m as never),
  'networking.k8s.io/v1/NetworkPolicy': (m) => new NetworkPolicy(m as never),
  'networking.k8s.io/v1/Ingress': (m) => new Ingress(m as never),
  'autoscaling/v2/HorizontalPodAutoscaler': (m) => new HorizontalPodAutoscaler(m as never),
};

/**
 * Validates a rendered object against the Kubernetes schema of its kind; throws on a violation or an
 * unknown kind. ServiceMonitor (a CRD that kubernetes-models does not ship) gets a minimal shape check.
 */
export function validateManifest(manifest: Manifest): void {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  if (key === 'monitoring.coreos.com/v1/ServiceMonitor') return validateServiceMonitor(manifest);
  const validator = VALIDATORS[key];
  if (validator === undefined) throw new Error(`no schema for ${key} (${manifest.metadata.name})`);
  validator(manifest).validate();
}

function validateServiceMonitor(manifest: Manifest): void {
  const spec = manifest['spec'] as { selector?: { matchLabels?: object }; endpoints?: { port?: string; path?: string }[] } | undefined;
  const endpoint = spec?.endpoints?.[0];
  if (spec?.selector?.matchLabels === undefined || typeof endpoint?.port !== 'string' || !endpoint.path?.startsWith('/')) {
    throw new Error(`ServiceMonitor ${manifest.metadata.name} needs spec.selector.matchLabels and an endpoint with a port and a path`);
  }
}
