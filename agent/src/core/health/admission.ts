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
