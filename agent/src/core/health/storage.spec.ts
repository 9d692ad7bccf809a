import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

function claim({ phase, volumeName }: { phase: string | undefined; volumeName?: string }) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: 'data-web-0',
      namespace: 'shop',
      uid: '7c6b5a4f-3e2d-4c1b-8a9f-8e7d6c5b4a3f',
      resourceVersion: '812777',
      creationTimestamp: '2024-05-01T08:00:00Z',
      annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com' },
      finalizers: ['kubernetes.io/pvc-protection'],
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'gp3', volumeMode: 'Filesystem', ...(volumeName ? { volumeName } : {}) },
    status: phase === undefined ? {} : { phase, ...(phase === 'Bound' ? { accessModes: ['ReadWriteOnce'], capacity: { storage: '10Gi' } } : {}) },
  };
}

function volume(phase: string, message?: string) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'pv-shop-data', uid: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', resourceVersion: '812700', creationTimestamp: '2024-05-01T08:00:00Z', finalizers: ['kubernetes.io/pv-protection'] },
    spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', hostPath: { path: '/srv/shop', type: '' }, volumeMode: 'Filesystem' },
    status: { phase, lastPhaseTransitionTime: '2024-05-01T08:00:00Z', ...(message ? { message } : {}) },
  };
}

describe('PersistentVolumeClaim', () => {
  it.each([
    { name: 'a bound claim is healthy', object: claim({ phase: 'Bound', volumeName: 'pvc-7c6b5a4f-3e2d-4c1b-8a9f-8e7d6c5b4a3f' }), health: 'HEALTHY', message: 'bound to volume pvc-7c6b5a4f-3e2d-4c1b-8a9f-8e7d6c5b4a3f' },
    { name: 'a pending claim is progressing', object: claim({ phase: 'Pending' }), health: 'PROGRESSING', message: 'waiting for a volume to be bound' },
    { name: 'a claim whose volume was lost is degraded', object: claim({ phase: 'Lost', volumeName: 'pvc-7c6b5a4f' }), health: 'DEGRADED', message: 'claim lost its volume pvc-7c6b5a4f' },
    { name: 'a claim without a phase yet is pending', object: claim({ phase: undefined }), health: 'PROGRESSING', message: 'waiting for a volume to be bound' },
    { name: 'a claim in a phase this agent does not know is unknown', object: claim({ phase: 'Resizing' }), health: 'UNKNOWN', message: 'claim phase is Resizing' },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});

describe('PersistentVolume', () => {
  it.each([
    { name: 'a bound volume is healthy', object: volume('Bound'), health: 'HEALTHY', message: 'volume is bound' },
    { name: 'an available volume is healthy', object: volume('Available'), health: 'HEALTHY', message: 'volume is available' },
    { name: 'a released volume is healthy and says its claim is gone', object: volume('Released'), health: 'HEALTHY', message: 'volume is released: its claim was deleted' },
    {
      name: 'a volume whose reclaim failed is degraded with the message',
      object: volume('Failed', 'error getting deleter volume plugin for volume "pv-shop-data": no deletable volume plugin matched'),
      health: 'DEGRADED',
      message: 'volume reclaim failed: error getting deleter volume plugin for volume "pv-shop-data": no deletable volume plugin matched',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
