import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

function service({ spec = {}, status = {} }: { spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', uid: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a', resourceVersion: '812511', creationTimestamp: '2024-05-01T08:00:00Z' },
    spec: {
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      clusterIP: '10.96.112.40',
      clusterIPs: ['10.96.112.40'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ...spec,
    },
    status: { loadBalancer: {}, ...status },
  };
}

const loadBalancer = { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 31380 }] };

function ingress({ apiVersion = 'networking.k8s.io/v1', status = {} }: { apiVersion?: string; status?: object } = {}) {
  return {
    apiVersion,
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop', uid: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e', resourceVersion: '812640', generation: 1, creationTimestamp: '2024-05-01T08:00:00Z' },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
    status: { loadBalancer: {}, ...status },
  };
}

describe('Service', () => {
  it.each([
    { name: 'a ClusterIP Service is healthy as soon as it exists', object: service(), health: 'HEALTHY', message: 'ClusterIP Service' },
    { name: 'a headless Service is healthy', object: service({ spec: { clusterIP: 'None', clusterIPs: ['None'] } }), health: 'HEALTHY', message: 'ClusterIP Service' },
    { name: 'a NodePort Service is healthy', object: service({ spec: { type: 'NodePort' } }), health: 'HEALTHY', message: 'NodePort Service' },
    {
      name: 'a LoadBalancer Service without an address yet is progressing',
      object: service({ spec: loadBalancer }),
      health: 'PROGRESSING',
      message: 'waiting for a load balancer address',
    },
    {
      name: 'a LoadBalancer Service with an IP is healthy',
      object: service({ spec: loadBalancer, status: { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'VIP' }] } } }),
      health: 'HEALTHY',
      message: 'load balancer at 203.0.113.10',
    },
    {
      name: 'a LoadBalancer Service with a hostname is healthy',
      object: service({ spec: loadBalancer, status: { loadBalancer: { ingress: [{ hostname: 'a1b2c3-123456789.eu-west-1.elb.amazonaws.com' }] } } }),
      health: 'HEALTHY',
      message: 'load balancer at a1b2c3-123456789.eu-west-1.elb.amazonaws.com',
    },
    {
      name: 'a load balancer entry with neither IP nor hostname does not count',
      object: service({ spec: loadBalancer, status: { loadBalancer: { ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] } } }),
      health: 'PROGRESSING',
      message: 'waiting for a load balancer address',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});

describe('Ingress', () => {
  it.each([
    {
      name: 'an Ingress with a published address is healthy',
      object: ingress({ status: { loadBalancer: { ingress: [{ ip: '203.0.113.20' }] } } }),
      health: 'HEALTHY',
      message: 'Ingress at 203.0.113.20',
    },
    {
      name: 'an Ingress the controller has not published an address for is progressing',
      object: ingress(),
      health: 'PROGRESSING',
      message: 'waiting for the ingress controller to publish an address',
    },
    {
      name: 'an Ingress of the old extensions group follows the same rule',
      object: ingress({ apiVersion: 'extensions/v1beta1', status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } }),
      health: 'HEALTHY',
      message: 'Ingress at lb.example.com',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
