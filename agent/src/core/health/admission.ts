import { Health } from '@flotilla/proto';
import { judged, type ResourceJudgement } from './judgement.js';
import { field, listOf, textOf, type LiveObject } from './read.js';

/**
 * What a rule may know besides the object itself. Every answer may be "unknown" (undefined): a rule
 * then judges on the object alone.
 */
export interface RelatedObjects {
  /** Ready endpoints of Service `namespace/name`, or undefined when the agent does not know. */
  readyEndpoints(namespace: string, name: string): number | undefined;
}

/** A Service a webhook calls. */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

// A Service's name is a DNS-1035 label and a namespace a DNS-1123 label; anything else cannot name a
// Service (the API server refuses such a webhook configuration) and must not reach a label selector.
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The Services the webhooks of a Mutating/ValidatingWebhookConfiguration call
 * (`webhooks[].clientConfig.service`), without duplicates, sorted by namespace then name. Webhooks called
 * by `url`, and references that are not valid names, are left out. Any other object yields none.
 */
export function webhookServicesOf(object: LiveObject): ServiceRef[] {
  const apiVersion = textOf(object['apiVersion']) ?? '';
  const kind = textOf(object['kind']);
  if (!apiVersion.startsWith('admissionregistration.k8s.io/') || (kind !== 'MutatingWebhookConfiguration' && kind !== 'ValidatingWebhookConfiguration')) return [];
  const services = new Map<string, ServiceRef>();
  for (const webhook of listOf(object['webhooks'])) {
    const namespace = textOf(field(webhook, 'clientConfig', 'service', 'namespace'));
    const name = textOf(field(webhook, 'clientConfig', 'service', 'name'));
    if (namespace === undefined || name === undefined || !NAMESPACE_NAME.test(namespace) || !SERVICE_NAME.test(name)) continue;
    services.set(`${namespace}/${name}`, { namespace, name });
  }
  return [...services.values()].sort((a, b) => (a.namespace === b.namespace ? compareText(a.name, b.name) : compareText(a.namespace, b.namespace)));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ready addresses among EndpointSlices (`discovery.k8s.io/v1`, `conditions.ready` absent counts as ready) and Endpoints (`subsets[].addresses`). */
export function countReadyEndpoints(objects: readonly LiveObject[]): number {
  let ready = 0;
  for (const object of objects) {
    if (object['kind'] === 'EndpointSlice') {
      for (const endpoint of listOf(object['endpoints'])) if (field(endpoint, 'conditions', 'ready') !== false) ready += 1;
    } else if (object['kind'] === 'Endpoints') {
      for (const subset of listOf(object['subsets'])) ready += listOf(field(subset, 'addresses')).length;
    }
  }
  return ready;
}

/**
 * Mutating/ValidatingWebhookConfiguration: DEGRADED when a webhook's `clientConfig.service` has no ready
 * endpoint (every matching API request then fails, or is let through unchecked with
 * `failurePolicy: Ignore`), naming the webhook and the service; else HEALTHY. Webhooks called by `url`,
 * and services whose endpoints the agent does not know, are not judged.
 */
export function judgeWebhookConfiguration(object: LiveObject, related: RelatedObjects | undefined): ResourceJudgement {
  const webhooks = listOf(object['webhooks']);
  for (const webhook of webhooks) {
    const namespace = textOf(field(webhook, 'clientConfig', 'service', 'namespace'));
    const name = textOf(field(webhook, 'clientConfig', 'service', 'name'));
    if (namespace === undefined || name === undefined) continue;
    if (related?.readyEndpoints(namespace, name) === 0) {
      const policy = textOf(field(webhook, 'failurePolicy')) ?? 'Fail';
      return judged(Health.DEGRADED, `webhook ${textOf(field(webhook, 'name')) ?? '(unnamed)'}: service ${namespace}/${name} has no ready endpoint (failurePolicy ${policy})`);
    }
  }
  return judged(Health.HEALTHY, `${webhooks.length} webhook${webhooks.length === 1 ? '' : 's'} configured`);
}
