import { describe, expect, it } from 'vitest';
import { webhookServicesOf } from './admission.js';

const configuration = (kind: string, clientConfigs: readonly unknown[], apiVersion = 'admissionregistration.k8s.io/v1') => ({
  apiVersion,
  kind,
  metadata: { name: 'hooks' },
  webhooks: clientConfigs.map((clientConfig, index) => ({ name: `hook-${index}.example.com`, clientConfig })),
});
const service = (namespace: string, name: string) => ({ service: { namespace, name, path: '/admit', port: 443 } });

describe('the services a webhook configuration calls', () => {
  it.each([
    {
      case: 'a ValidatingWebhookConfiguration, sorted by namespace then name, each once',
      object: configuration('ValidatingWebhookConfiguration', [service('tls', 'webhook'), service('policy', 'gate'), service('tls', 'webhook'), service('policy', 'admit')]),
      services: [
        { namespace: 'policy', name: 'admit' },
        { namespace: 'policy', name: 'gate' },
        { namespace: 'tls', name: 'webhook' },
      ],
    },
    {
      case: 'a MutatingWebhookConfiguration of admissionregistration.k8s.io/v1beta1',
      object: configuration('MutatingWebhookConfiguration', [service('cert-manager', 'cert-manager-webhook')], 'admissionregistration.k8s.io/v1beta1'),
      services: [{ namespace: 'cert-manager', name: 'cert-manager-webhook' }],
    },
    { case: 'webhooks called by url', object: configuration('ValidatingWebhookConfiguration', [{ url: 'https://hooks.example.com/admit' }]), services: [] },
    {
      case: 'references that are not names of a namespace and a Service (they must never reach a label selector)',
      object: configuration('ValidatingWebhookConfiguration', [service('tls', 'web,other'), service('tls', 'Web'), service('a/b', 'web'), service('', 'web'), { service: { name: 'web' } }, 'oops']),
      services: [],
    },
    { case: 'a kind of the same name in another group', object: configuration('ValidatingWebhookConfiguration', [service('tls', 'webhook')], 'example.com/v1'), services: [] },
    { case: 'any other kind', object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'webhook' } }, services: [] },
    { case: 'no webhooks at all', object: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', webhooks: 'none' }, services: [] },
  ])('are read from $case', ({ object, services }) => {
    expect(webhookServicesOf(object)).toEqual(services);
  });
});
