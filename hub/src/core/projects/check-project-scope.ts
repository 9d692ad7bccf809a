import { issue, type Issue } from '../issues';
import type { ProjectRule } from './project-rule';

/**
 * The hub's half of the project guard: every rendered object must fit the project's allow-list. The
 * agent checks again with the cluster's own discovery (it alone knows whether a custom kind is
 * namespaced); here, kinds not in {@link CLUSTER_SCOPED_KINDS} count as namespaced.
 */

/** Built-in Kubernetes kinds that are cluster-scoped, by `group/Kind` (core group: `/Kind`). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass',
  'networking.k8s.io/IngressClass',
  'node.k8s.io/RuntimeClass',
  'certificates.k8s.io/CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'policy/PodSecurityPolicy',
]);

/** What the check needs of a rendered App. */
export interface ScopedApp {
  readonly clusterName: string;
  readonly appName: string;
  readonly namespace: string;
  readonly manifests: readonly unknown[];
}

/** Most issues reported for one AppSet; the last one says how many more there were. */
const MAX_ISSUES = 20;

/**
 * Every way the rendered Apps leave the project's allow-list, as issues (empty: all inside). The App's
 * own namespace must be allowed too, since the agent puts objects that name no namespace there.
 */
export function checkProjectScope(apps: readonly ScopedApp[], project: ProjectRule): Issue[] {
  const issues: Issue[] = [];
  let total = 0;
  const add = (found: Issue) => {
    total++;
    if (issues.length < MAX_ISSUES) issues.push(found);
  };
  for (const app of apps) {
    const where = `App "${app.appName}" on cluster ${app.clusterName}`;
    if (app.namespace !== '' && !matchesAny(app.namespace, project.namespaces)) {
      add(issue('PROJECT_NAMESPACE_NOT_ALLOWED', 'spec.template.namespace', `${where}: namespace "${app.namespace}" is not allowed in project "${project.name}" (allowed: ${listed(project.namespaces)}).`));
    }
    app.manifests.forEach((manifest, index) => {
      const object = describe(manifest, app.namespace);
      const path = `spec.template.manifests[${index}]`;
      if (object.clusterScoped && !project.clusterScoped) {
        add(issue('PROJECT_CLUSTER_SCOPED_NOT_ALLOWED', path, `${where}: ${object.label} is cluster-scoped; project "${project.name}" allows no cluster-scoped objects.`));
      }
      if (!object.clusterScoped && object.namespace !== '' && object.namespace !== app.namespace && !matchesAny(object.namespace, project.namespaces)) {
        add(issue('PROJECT_NAMESPACE_NOT_ALLOWED', path, `${where}: ${object.label} is in namespace "${object.namespace}", not allowed in project "${project.name}" (allowed: ${listed(project.namespaces)}).`));
      }
      if (project.kinds.length > 0 && !project.kinds.some((pattern) => matchesKind(object.group, object.kind, pattern))) {
        add(issue('PROJECT_KIND_NOT_ALLOWED', path, `${where}: kind ${object.group ? `${object.group}/` : ''}${object.kind} is not allowed in project "${project.name}" (allowed: ${listed(project.kinds)}).`));
      }
    });
  }
  if (total > issues.length) {
    issues[issues.length - 1] = issue('PROJECT_SCOPE_VIOLATIONS', 'spec.template', `${total} objects or namespaces are outside project "${project.name}"; the first ${MAX_ISSUES - 1} are listed.`);
  }
  return issues;
}

interface DescribedObject {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly clusterScoped: boolean;
  readonly label: string;
}

function describe(manifest: unknown, appNamespace: string): DescribedObject {
  const object = (manifest && typeof manifest === 'object' ? manifest : {}) as Record<string, unknown>;
  const apiVersion = typeof object['apiVersion'] === 'string' ? object['apiVersion'] : '';
  const kind = typeof object['kind'] === 'string' ? object['kind'] : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  const metadata = (object['metadata'] && typeof object['metadata'] === 'object' ? object['metadata'] : {}) as Record<string, unknown>;
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '(unnamed)';
  const namespace = typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : appNamespace;
  return { group, kind, namespace, clusterScoped: CLUSTER_SCOPED_KINDS.has(`${group}/${kind}`), label: `${kind} ${name}` };
}

function matchesKind(group: string, kind: string, pattern: string): boolean {
  const slash = pattern.lastIndexOf('/');
  if (slash < 0) return matchesGlob(kind, pattern);
  return matchesGlob(group, pattern.slice(0, slash)) && matchesGlob(kind, pattern.slice(slash + 1));
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A valid namespace name matching one of the patterns (`../x` or `a/b` never match, whatever the glob). */
function matchesAny(value: string, patterns: readonly string[]): boolean {
  return NAMESPACE_NAME.test(value) && patterns.some((pattern) => matchesGlob(value, pattern));
}

/** `*` matches any run of characters (also none); everything else is literal. */
export function matchesGlob(value: string, pattern: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(value);
}

function listed(values: readonly string[]): string {
  return values.length === 0 ? 'none' : values.map((v) => `"${v}"`).join(', ');
}
