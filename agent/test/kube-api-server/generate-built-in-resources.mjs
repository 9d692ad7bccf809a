// Regenerates built-in-resources.generated.json: every built-in resource a Kubernetes 1.35 API server
// serves by default (GA group/versions), with the list and map shapes server-side apply uses.
//
//   git clone --depth 1 --branch v0.35.7 https://github.com/kubernetes/client-go <dir>
//   node agent/test/kube-api-server/generate-built-in-resources.mjs <dir>
//
// Sources, both in k8s.io/client-go v0.35.x (Kubernetes 1.35), which is generated from the API types:
// - applyconfigurations/internal/internal.go: the structured-merge-diff schema kube-apiserver itself
//   uses for field ownership (generated from the OpenAPI x-kubernetes-list-type / -list-map-keys /
//   -map-type and patch merge keys). Associative lists, sets and atomic maps are taken from it.
// - kubernetes/typed/<group>/<version>/<kind>.go (+ _expansion.go): resource name, scope (a namespace
//   argument), verbs (interface methods), the status subresource (UpdateStatus) and the others
//   (`SubResource("...")`).
// Short names and categories are not in client-go; they come from kube-apiserver's REST storage
// (ShortNames()/Categories()) and are listed below by hand.
// Needs a client-go checkout (network), so CI does not check staleness; the JSON is committed.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const CLIENT_GO_VERSION = 'v0.35.7';
const root = process.argv[2];
if (root === undefined || !existsSync(join(root, 'applyconfigurations/internal/internal.go'))) {
  console.error('usage: generate-built-in-resources.mjs <client-go checkout at ' + CLIENT_GO_VERSION + '>');
  process.exit(2);
}

const SHORT_NAMES = {
  'v1/componentstatuses': ['cs'], 'v1/configmaps': ['cm'], 'v1/endpoints': ['ep'], 'v1/events': ['ev'], 'v1/limitranges': ['limits'],
  'v1/namespaces': ['ns'], 'v1/nodes': ['no'], 'v1/persistentvolumeclaims': ['pvc'], 'v1/persistentvolumes': ['pv'], 'v1/pods': ['po'],
  'v1/replicationcontrollers': ['rc'], 'v1/resourcequotas': ['quota'], 'v1/serviceaccounts': ['sa'], 'v1/services': ['svc'],
  'apps/daemonsets': ['ds'], 'apps/deployments': ['deploy'], 'apps/replicasets': ['rs'], 'apps/statefulsets': ['sts'],
  'autoscaling/horizontalpodautoscalers': ['hpa'], 'batch/cronjobs': ['cj'], 'certificates.k8s.io/certificatesigningrequests': ['csr'],
  'events.k8s.io/events': ['ev'], 'networking.k8s.io/ingresses': ['ing'], 'networking.k8s.io/networkpolicies': ['netpol'],
  'policy/poddisruptionbudgets': ['pdb'], 'scheduling.k8s.io/priorityclasses': ['pc'], 'storage.k8s.io/storageclasses': ['sc'],
  'apiextensions.k8s.io/customresourcedefinitions': ['crd', 'crds'],
};
const CATEGORIES = {
  'v1/pods': ['all'], 'v1/services': ['all'], 'v1/replicationcontrollers': ['all'], 'apps/daemonsets': ['all'], 'apps/deployments': ['all'],
  'apps/replicasets': ['all'], 'apps/statefulsets': ['all'], 'autoscaling/horizontalpodautoscalers': ['all'], 'batch/cronjobs': ['all'],
  'batch/jobs': ['all'], 'apiextensions.k8s.io/customresourcedefinitions': ['api-extensions'],
  'apiregistration.k8s.io/apiservices': ['api-extensions'],
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': ['api-extensions'],
  'admissionregistration.k8s.io/validatingwebhookconfigurations': ['api-extensions'],
  'admissionregistration.k8s.io/validatingadmissionpolicies': ['api-extensions'],
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': ['api-extensions'],
};
// Typed client package → API group (the package names drop `.k8s.io` etc.).
const GROUPS = {
  admissionregistration: 'admissionregistration.k8s.io', apps: 'apps', authentication: 'authentication.k8s.io',
  authorization: 'authorization.k8s.io', autoscaling: 'autoscaling', batch: 'batch', certificates: 'certificates.k8s.io',
  coordination: 'coordination.k8s.io', core: '', discovery: 'discovery.k8s.io', events: 'events.k8s.io',
  flowcontrol: 'flowcontrol.apiserver.k8s.io', networking: 'networking.k8s.io', node: 'node.k8s.io', policy: 'policy',
  rbac: 'rbac.authorization.k8s.io', resource: 'resource.k8s.io', scheduling: 'scheduling.k8s.io', storage: 'storage.k8s.io',
};
// Served by kube-apiserver's own extension and aggregation servers, which client-go types elsewhere.
const EXTRA = [
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, status: true, pkg: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1' },
  { group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService', plural: 'apiservices', namespaced: false, status: true, pkg: 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1' },
  // Pods are bound through pods/binding by client-go; the resource itself is served too.
  { group: '', version: 'v1', kind: 'Binding', plural: 'bindings', namespaced: true, verbs: ['create'], pkg: 'io.k8s.api.core.v1' },
];
// Where kube-apiserver's storage serves fewer verbs than the generated typed client offers.
const VERB_OVERRIDES = { 'v1/componentstatuses': ['get', 'list'] };
const VERBS = { Create: 'create', Delete: 'delete', DeleteCollection: 'deletecollection', Get: 'get', List: 'list', Patch: 'patch', Update: 'update', Watch: 'watch' };

function typedResources() {
  const out = [];
  const typed = join(root, 'kubernetes/typed');
  for (const pkg of readdirSync(typed).sort()) {
    const group = GROUPS[pkg];
    if (group === undefined) continue;
    for (const version of readdirSync(join(typed, pkg)).sort()) {
      if (!/^v\d+$/.test(version)) continue; // beta and alpha versions are off by default
      const dir = join(typed, pkg, version);
      for (const file of readdirSync(dir).sort()) {
        if (!file.endsWith('.go') || /(_client|_expansion|_test|^doc|^generated_expansion)\.go$|^doc\.go$/.test(file)) continue;
        const source = readFileSync(join(dir, file), 'utf8');
        const iface = /type (\w+)Interface interface \{([\s\S]*?)\n\}/.exec(source);
        const getter = /type \w+Getter interface \{\s*\w+\((namespace string)?\)/.exec(source);
        const plural = /gentype\.NewClient\w*\[[^\]]*\]\(\s*"([^"]+)"/.exec(source);
        if (!iface || !getter || !plural) continue;
        // Eviction and the like are subresources with a typed client of their own, not resources.
        const methods = [...iface[2].matchAll(/^\s*(\w+)\(/gm)].map((match) => match[1]);
        const expansionFile = join(dir, file.replace(/\.go$/, '_expansion.go'));
        const all = existsSync(expansionFile) ? source + readFileSync(expansionFile, 'utf8') : source;
        const subresources = new Set([...all.matchAll(/SubResource\(\s*"([^"]+)"/g)].map((match) => match[1]));
        if (methods.includes('UpdateStatus')) subresources.add('status');
        const verbs = Object.keys(VERBS).filter((method) => methods.includes(method)).map((method) => VERBS[method]).sort();
        if (verbs.length === 0) continue;
        out.push({
          group, version, kind: iface[1], plural: plural[1], namespaced: getter[1] !== undefined,
          verbs,
          subresources: [...subresources].sort(),
          pkg: `io.k8s.api.${pkg === 'core' ? 'core' : pkg}.${version}`,
        });
      }
    }
  }
  return out;
}

const schema = (() => {
  const go = readFileSync(join(root, 'applyconfigurations/internal/internal.go'), 'utf8');
  const yamlText = /var schemaYAML = typed\.YAMLObject\(`([\s\S]*?)`\)/.exec(go)[1];
  return new Map(parse(yamlText).types.map((type) => [type.name, type]));
})();

/** Field paths (dot-joined field names; list items add nothing) of associative lists, sets and atomic maps. */
function shapesOf(typeName) {
  const lists = {};
  const atomicMaps = [];
  const walk = (name, path, seen) => {
    const type = schema.get(name);
    if (type?.map === undefined || seen.has(name) || path.length > 16) return;
    if (type.map.elementRelationship === 'atomic' && path.length > 0) { atomicMaps.push(path.join('.')); return; }
    for (const field of type.map.fields ?? []) {
      if (path.length === 0 && field.name === 'metadata') continue; // object metadata is common to all kinds
      const fieldPath = [...path, field.name];
      let node = field.type;
      if (node.list !== undefined) {
        const relationship = node.list.elementRelationship ?? 'atomic';
        if (relationship === 'associative' && node.list.keys !== undefined) {
          const element = schema.get(node.list.elementType.namedType);
          const defaults = Object.fromEntries(node.list.keys.flatMap((key) => {
            const keyField = element?.map?.fields?.find((candidate) => candidate.name === key);
            return keyField?.default === undefined || keyField.default === '' || keyField.default === 0 ? [] : [[key, keyField.default]];
          }));
          lists[fieldPath.join('.')] = Object.keys(defaults).length > 0 ? { keys: node.list.keys, defaults } : { keys: node.list.keys };
        } else if (relationship === 'associative') lists[fieldPath.join('.')] = 'set';
        if (relationship !== 'atomic') node = node.list.elementType; else continue;
      }
      if (node.map !== undefined && node.map.elementRelationship === 'atomic') atomicMaps.push(fieldPath.join('.'));
      if (node.namedType !== undefined) walk(node.namedType, fieldPath, new Set([...seen, name]));
    }
  };
  walk(typeName, [], new Set());
  return { lists, atomicMaps };
}

const resources = [...typedResources(), ...EXTRA.map((extra) => ({ verbs: Object.values(VERBS).sort(), ...extra, subresources: extra.status ? ['status'] : [] }))]
  .map(({ pkg, status: _status, ...resource }) => {
    const key = `${resource.group || 'v1'}/${resource.plural}`;
    const typeName = `${pkg}.${resource.kind}`;
    const { lists, atomicMaps } = schema.has(typeName) ? shapesOf(typeName) : { lists: {}, atomicMaps: [] };
    return {
      ...resource,
      verbs: VERB_OVERRIDES[key] ?? resource.verbs,
      singular: resource.kind.toLowerCase(),
      shortNames: SHORT_NAMES[key] ?? [],
      categories: CATEGORIES[key] ?? [],
      lists,
      atomicMaps: [...new Set(atomicMaps)].sort(),
    };
  })
  .sort((a, b) => `${a.group}/${a.version}/${a.plural}`.localeCompare(`${b.group}/${b.version}/${b.plural}`));

const document = {
  generated: `by generate-built-in-resources.mjs from k8s.io/client-go ${CLIENT_GO_VERSION} (Kubernetes 1.35); do not edit. Regenerating needs a client-go checkout (network), so CI does not check this file for staleness`,
  kubernetesVersion: 'v1.35',
  resources,
};
const target = join(dirname(fileURLToPath(import.meta.url)), 'built-in-resources.generated.json');
writeFileSync(target, JSON.stringify(document, null, 1) + '\n');
console.log(`${resources.length} resources written to ${target}`);
