import { isMap, type JsonMap } from './field-set.js';
import type { ResourceType } from './resource-types.js';
import type { FieldError } from './status.js';
import type { KubeObject } from './types.js';

/**
 * The validation kube-apiserver does that a GitOps agent is likely to trip on: names, labels, the
 * selector/template/container rules of workloads, and CustomResourceDefinition structure. Everything
 * else is accepted (see README.md). Messages are kube-apiserver's.
 */

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

type NameRule = 'subdomain' | 'label' | 'dns1035' | 'pathSegment';

function nameRuleOf(type: ResourceType): NameRule {
  if (type.kind === 'Namespace') return 'label';
  if (type.kind === 'Service') return 'dns1035';
  if (type.group === 'rbac.authorization.k8s.io') return 'pathSegment';
  return 'subdomain';
}

/** Errors of `name` as an object name of `type`; empty when valid. */
export function validateName(type: ResourceType, name: string, field = 'metadata.name'): FieldError[] {
  const invalid = (detail: string): FieldError[] => [{ type: 'FieldValueInvalid', field, value: name, detail }];
  switch (nameRuleOf(type)) {
    case 'label':
      if (name.length > 63) return invalid('must be no more than 63 characters');
      return LABEL.test(name) ? [] : invalid(LABEL_MESSAGE);
    case 'dns1035':
      if (name.length > 63) return invalid('must be no more than 63 characters');
      return DNS1035.test(name) ? [] : invalid(DNS1035_MESSAGE);
    case 'pathSegment':
      if (name === '.' || name === '..') return invalid(`may not be '${name}'`);
      return /[/%]/.test(name) ? invalid(`may not contain '${name.includes('/') ? '/' : '%'}'`) : [];
    case 'subdomain':
      if (name.length > 253) return invalid('must be no more than 253 characters');
      return SUBDOMAIN.test(name) ? [] : invalid(SUBDOMAIN_MESSAGE);
  }
}

function validateQualifiedKey(key: string, field: string): FieldError[] {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  const detail =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  if (prefix !== undefined && (prefix.length > 253 || !SUBDOMAIN.test(prefix))) return [{ type: 'FieldValueInvalid', field, value: key, detail: `prefix part ${SUBDOMAIN_MESSAGE}` }];
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) return [{ type: 'FieldValueInvalid', field, value: key, detail }];
  return [];
}

function validateLabels(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isMap(labels)) return [{ type: 'FieldValueInvalid', field, value: labels, detail: 'must be a map of strings' }];
  return Object.entries(labels).flatMap(([key, value]) => {
    const keyErrors = validateQualifiedKey(key, field);
    if (typeof value !== 'string') return [...keyErrors, { type: 'FieldValueInvalid' as const, field, value, detail: 'label values must be strings' }];
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      return [
        ...keyErrors,
        {
          type: 'FieldValueInvalid' as const,
          field,
          value,
          detail:
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        },
      ];
    }
    return keyErrors;
  });
}

function validateAnnotations(annotations: unknown): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isMap(annotations)) return [{ type: 'FieldValueInvalid', field: 'metadata.annotations', value: annotations, detail: 'must be a map of strings' }];
  return Object.entries(annotations).flatMap(([key, value]) => [
    ...validateQualifiedKey(key, 'metadata.annotations'),
    ...(typeof value === 'string' ? [] : [{ type: 'FieldValueInvalid' as const, field: 'metadata.annotations', value, detail: 'annotation values must be strings' }]),
  ]);
}

const mapOf = (value: unknown): JsonMap => (isMap(value) ? value : {});
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function validateContainers(podSpec: JsonMap, field: string): FieldError[] {
  const containers = listOf(podSpec['containers']);
  if (containers.length === 0) return [{ type: 'FieldValueRequired', field: `${field}.containers`, detail: '' }];
  const seen = new Set<string>();
  return containers.flatMap((container, index) => {
    const entry = mapOf(container);
    const at = `${field}.containers[${index}]`;
    const errors: FieldError[] = [];
    if (typeof entry['name'] !== 'string' || entry['name'] === '') errors.push({ type: 'FieldValueRequired', field: `${at}.name`, detail: '' });
    else if (seen.has(entry['name'])) errors.push({ type: 'FieldValueDuplicate', field: `${at}.name`, value: entry['name'], detail: '' });
    else seen.add(entry['name']);
    if (typeof entry['image'] !== 'string' || entry['image'] === '') errors.push({ type: 'FieldValueRequired', field: `${at}.image`, detail: '' });
    return errors;
  });
}

function validateTemplate(spec: JsonMap, requireSelector: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const template = mapOf(spec['template']);
  const labels = mapOf(mapOf(template['metadata'])['labels']);
  const selector = spec['selector'];
  if (requireSelector && !isMap(selector)) errors.push({ type: 'FieldValueRequired', field: 'spec.selector', detail: '' });
  const matchLabels = mapOf(mapOf(selector)['matchLabels']);
  if (isMap(selector) && Object.keys(matchLabels).length === 0 && listOf(selector['matchExpressions']).length === 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.selector', value: selector, detail: 'empty selector is invalid for deployment' });
  }
  if (Object.entries(matchLabels).some(([key, value]) => labels[key] !== value)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.template.metadata.labels', value: labels, detail: '`selector` does not match template `labels`' });
  }
  errors.push(...validateContainers(mapOf(template['spec']), 'spec.template.spec'));
  return errors;
}

function validateCustomResourceDefinition(crd: KubeObject): FieldError[] {
  const spec = mapOf(crd['spec']);
  const names = mapOf(spec['names']);
  const errors: FieldError[] = [];
  const group = spec['group'];
  if (typeof group !== 'string' || group === '') errors.push({ type: 'FieldValueRequired', field: 'spec.group', detail: '' });
  else if (!group.includes('.') || !SUBDOMAIN.test(group)) errors.push({ type: 'FieldValueInvalid', field: 'spec.group', value: group, detail: 'should be a domain with at least one dot' });
  for (const name of ['plural', 'kind'] as const) {
    if (typeof names[name] !== 'string' || names[name] === '') errors.push({ type: 'FieldValueRequired', field: `spec.names.${name}`, detail: '' });
  }
  if (typeof names['plural'] === 'string' && !LABEL.test(names['plural'])) errors.push({ type: 'FieldValueInvalid', field: 'spec.names.plural', value: names['plural'], detail: LABEL_MESSAGE });
  if (typeof names['plural'] === 'string' && typeof group === 'string' && crd.metadata.name !== `${names['plural']}.${group}`) {
    errors.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: crd.metadata.name, detail: 'must be spec.names.plural+"."+spec.group' });
  }
  if (spec['scope'] !== 'Namespaced' && spec['scope'] !== 'Cluster') {
    errors.push({ type: 'FieldValueNotSupported', field: 'spec.scope', value: spec['scope'] ?? '', detail: 'supported values: "Cluster", "Namespaced"' });
  }
  const versions = listOf(spec['versions']).map(mapOf);
  if (versions.length === 0) errors.push({ type: 'FieldValueInvalid', field: 'spec.versions', value: [], detail: 'must have exactly one version marked as storage version' });
  else if (versions.filter((version) => version['storage'] === true).length !== 1) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.versions', value: versions.map((version) => version['name']), detail: 'must have exactly one version marked as storage version' });
  }
  versions.forEach((version, index) => {
    if (typeof version['name'] !== 'string' || !LABEL.test(version['name'])) errors.push({ type: 'FieldValueInvalid', field: `spec.versions[${index}].name`, value: version['name'] ?? '', detail: LABEL_MESSAGE });
    if (!isMap(mapOf(version['schema'])['openAPIV3Schema'])) errors.push({ type: 'FieldValueRequired', field: `spec.versions[${index}].schema.openAPIV3Schema`, detail: 'schemas are required' });
  });
  return errors;
}

/** Validates `object` (defaults applied) as an object of `type`; an empty list means valid. */
export function validateObject(type: ResourceType, object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  errors.push(...validateLabels(object.metadata.labels, 'metadata.labels'));
  errors.push(...validateAnnotations(object.metadata.annotations));
  const spec = mapOf(object['spec']);
  if (type.custom) return errors;
  switch (type.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
      errors.push(...validateTemplate(spec, true));
      break;
    case 'Job': {
      errors.push(...validateContainers(mapOf(mapOf(spec['template'])['spec']), 'spec.template.spec'));
      const restartPolicy = mapOf(mapOf(spec['template'])['spec'])['restartPolicy'];
      if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
        errors.push({ type: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', value: restartPolicy ?? '', detail: 'supported values: "OnFailure", "Never"' });
      }
      break;
    }
    case 'Pod':
      errors.push(...validateContainers(spec, 'spec'));
      break;
    case 'Service':
      if (spec['type'] !== 'ExternalName' && spec['clusterIP'] !== 'None' && listOf(spec['ports']).length === 0) {
        errors.push({ type: 'FieldValueRequired', field: 'spec.ports', detail: '' });
      }
      break;
    case 'CustomResourceDefinition':
      errors.push(...validateCustomResourceDefinition(object));
      break;
    default:
      break;
  }
  return errors;
}
