import { describe, expect, it } from 'vitest';
import { driftedFields, formatPath, jsonEqual } from './field-diff.js';

const deployment = (replicas: number, image = 'web:1', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, resourceVersion: '7', managedFields: [] },
  spec: {
    replicas,
    template: { spec: { containers: [{ name: 'web', image, imagePullPolicy: 'IfNotPresent' }] } },
    ...extra,
  },
  status: { readyReplicas: 1 },
});
const applied = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
};
const paths = (a: unknown, e: unknown, l: unknown) => driftedFields(a, e, l).map((field) => field.path);

describe('driftedFields', () => {
  it.each([
    { name: 'nothing drifted when live matches what the server made of the config', live: deployment(2), want: [] },
    { name: 'a changed scalar is drift at its path', live: deployment(5), want: ['spec.replicas'] },
    { name: 'a changed field of a named list item names the item', live: deployment(2, 'web:2'), want: ['spec.template.spec.containers[name=web].image'] },
    {
      name: 'a field another manager added is not drift',
      live: deployment(2, 'web:1', { minReadySeconds: 10 }),
      want: [],
    },
    {
      name: 'status, resourceVersion and managedFields are never compared',
      live: { ...deployment(2), status: { readyReplicas: 0 }, metadata: { ...deployment(2).metadata, resourceVersion: '9', managedFields: [{ manager: 'x' }] } },
      want: [],
    },
    {
      name: 'a removed label is drift',
      live: { ...deployment(2), metadata: { ...deployment(2).metadata, labels: {} } },
      want: ['metadata.labels.app'],
    },
  ])('$name', ({ live, want }) => {
    expect(paths(applied, deployment(2), live)).toEqual(want);
  });

  it('compares with what the server made of the config, so defaults and normalised values are not drift', () => {
    const config = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1000m' } } }] } };
    const normalised = { ...config, spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }] } };
    expect(paths(config, normalised, normalised)).toEqual([]);
  });

  it('compares lists without names as a whole', () => {
    const config = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } };
    const expected = { ...config, spec: { ports: [{ port: 80, protocol: 'TCP' }] } };
    const live = { ...config, spec: { ports: [{ port: 81, protocol: 'TCP' }] } };
    expect(paths(config, expected, live)).toEqual(['spec.ports']);
  });

  it('reports a named item that is gone from the live object at the item', () => {
    const live = { ...deployment(2), spec: { ...deployment(2).spec, template: { spec: { containers: [{ name: 'sidecar', image: 's' }] } } } };
    expect(paths(applied, deployment(2), live)).toEqual(['spec.template.spec.containers[name=web]']);
  });

  it('quotes keys that are not identifiers', () => {
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'app.conf': 'a', plain: 'p' } };
    const live = { ...config, data: { 'app.conf': 'b', plain: 'q' } };
    expect(paths(config, config, live)).toEqual(['data.plain', 'data["app.conf"]']);
  });
});

describe('formatPath', () => {
  it('joins keys with dots, quotes odd keys and names list items', () => {
    expect(
      formatPath([
        { kind: 'key', key: 'metadata' },
        { kind: 'key', key: 'annotations' },
        { kind: 'key', key: 'example.com/x' },
      ]),
    ).toBe('metadata.annotations["example.com/x"]');
    expect(formatPath([{ kind: 'key', key: 'env' }, { kind: 'item', name: 'A' }, { kind: 'key', key: 'value' }])).toBe('env[name=A].value');
  });
});

describe('jsonEqual', () => {
  it.each([
    { name: 'key order does not matter', a: { x: 1, y: [1, { z: 2 }] }, b: { y: [1, { z: 2 }], x: 1 }, want: true },
    { name: 'list order matters', a: [1, 2], b: [2, 1], want: false },
    { name: 'a missing key differs from null', a: { x: null }, b: {}, want: false },
    { name: 'a number differs from its string', a: 1, b: '1', want: false },
  ])('$name', ({ a, b, want }) => {
    expect(jsonEqual(a, b)).toBe(want);
  });
});
