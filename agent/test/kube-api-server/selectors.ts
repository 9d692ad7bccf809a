import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

/**
 * Label and field selectors as kube-apiserver parses them. A selector compiles to a predicate once per
 * request; a malformed one is a 400 naming the requirement that failed.
 */

export type ObjectPredicate = (object: KubeObject) => boolean;

type Requirement =
  | { readonly op: 'exists' | 'notExists'; readonly key: string }
  | { readonly op: 'in' | 'notIn'; readonly key: string; readonly values: ReadonlySet<string> }
  | { readonly op: 'gt' | 'lt'; readonly key: string; readonly bound: number };

const KEY = String.raw`[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?`;
const VALUE = String.raw`([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?`;
const SET_PATTERN = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`);
const EQUALITY_PATTERN = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const ORDER_PATTERN = new RegExp(String.raw`^(${KEY})\s*(>|<)\s*(-?\d+)$`);
const EXISTS_PATTERN = new RegExp(String.raw`^(${KEY})$`);
const NOT_EXISTS_PATTERN = new RegExp(String.raw`^!\s*(${KEY})$`);
const VALUE_PATTERN = new RegExp(`^${VALUE}$`);

/** Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim());
}

function parseRequirement(text: string): Requirement {
  const unparsable = badRequest(`unable to parse requirement: ${JSON.stringify(text)}: expected key, !key, key=value, key!=value, key in (...) or key notin (...)`);
  let match = NOT_EXISTS_PATTERN.exec(text);
  if (match) return { op: 'notExists', key: match[1]! };
  match = SET_PATTERN.exec(text);
  if (match) {
    const values = match[4]!.split(',').map((value) => value.trim());
    if (values.some((value) => !VALUE_PATTERN.test(value))) throw unparsable;
    return { op: match[3] === 'in' ? 'in' : 'notIn', key: match[1]!, values: new Set(values) };
  }
  match = EQUALITY_PATTERN.exec(text);
  if (match) return { op: match[3] === '!=' ? 'notIn' : 'in', key: match[1]!, values: new Set([match[4]!]) };
  match = ORDER_PATTERN.exec(text);
  if (match) return { op: match[3] === '>' ? 'gt' : 'lt', key: match[1]!, bound: Number(match[4]) };
  match = EXISTS_PATTERN.exec(text);
  if (match) return { op: 'exists', key: match[1]! };
  throw unparsable;
}

function matchesRequirement(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.op) {
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case 'in':
      return has && requirement.values.has(value!);
    case 'notIn':
      return !has || !requirement.values.has(value!);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value!)) return false;
      return requirement.op === 'gt' ? Number(value) > requirement.bound : Number(value) < requirement.bound;
    }
  }
}

/** Compiles a label selector (`app=web,tier in (a,b),!legacy`); empty or absent matches everything. */
export function parseLabelSelector(selector: string | undefined): ObjectPredicate {
  if (selector === undefined || selector.trim() === '') return () => true;
  const requirements = splitRequirements(selector).map(parseRequirement);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((requirement) => matchesRequirement(requirement, labels));
  };
}

/** Fields a selector may name beyond `metadata.name` and `metadata.namespace`, per kind (as the real server allows). */
const EXTRA_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP'],
  Secret: ['type'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'reason', 'type', 'source'],
  Namespace: ['status.phase'],
  Job: ['status.successful'],
  ReplicaSet: ['status.replicas'],
};

function fieldValue(object: KubeObject, path: string): string {
  let current: unknown = object;
  for (const part of path.split('.')) {
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[part] : undefined;
  }
  return current === undefined || current === null ? '' : String(current);
}

/** Compiles a field selector (`metadata.name=web,metadata.namespace!=kube-system`) for objects of `kind`. */
export function parseFieldSelector(selector: string | undefined, kind: string): ObjectPredicate {
  if (selector === undefined || selector.trim() === '') return () => true;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(EXTRA_FIELDS[kind] ?? [])]);
  const terms = selector.split(',').map((term) => {
    const match = /^\s*([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field, op, value] = match;
    if (!allowed.has(field!)) throw badRequest(`field label not supported: ${field}`);
    return { field: field!, negate: op === '!=', value: value! };
  });
  return (object) => terms.every((term) => (fieldValue(object, term.field) === term.value) !== term.negate);
}
