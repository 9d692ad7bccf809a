import { Health } from '@flotilla/proto';
import { judged, type ResourceJudgement } from './judgement.js';
import { field, listOf, textOf, type LiveObject } from './read.js';

/**
 * Service: `type: LoadBalancer` is PROGRESSING until the cloud controller publishes an address in
 * `status.loadBalancer.ingress`; every other type is HEALTHY as soon as it exists.
 */
export function judgeService(object: LiveObject): ResourceJudgement {
  const type = textOf(field(object, 'spec', 'type')) ?? 'ClusterIP';
  if (type !== 'LoadBalancer') return judged(Health.HEALTHY, `${type} Service`);
  const addresses = loadBalancerAddresses(object);
  if (addresses.length === 0) return judged(Health.PROGRESSING, 'waiting for a load balancer address');
  return judged(Health.HEALTHY, `load balancer at ${addresses.join(', ')}`);
}

/**
 * Ingress: PROGRESSING until the ingress controller publishes an address in
 * `status.loadBalancer.ingress`, then HEALTHY (Argo CD semantics). An ingress controller that never
 * publishes addresses (e.g. ingress-nginx without `--publish-service`) keeps its Ingresses PROGRESSING.
 */
export function judgeIngress(object: LiveObject): ResourceJudgement {
  const addresses = loadBalancerAddresses(object);
  if (addresses.length === 0) return judged(Health.PROGRESSING, 'waiting for the ingress controller to publish an address');
  return judged(Health.HEALTHY, `Ingress at ${addresses.join(', ')}`);
}

// Entries with neither an IP nor a hostname do not count: nothing can be reached through them.
function loadBalancerAddresses(object: LiveObject): string[] {
  return listOf(field(object, 'status', 'loadBalancer', 'ingress')).flatMap((entry) => {
    const address = textOf(field(entry, 'ip')) ?? textOf(field(entry, 'hostname'));
    return address === undefined ? [] : [address];
  });
}
