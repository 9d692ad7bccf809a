import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './index.js';
import { raw } from './spec-support.js';

// Bad requests get a Status with the right code and reason, never a hang, a crash or a partial write.

let server: KubeApiTestServer;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false });
});
afterAll(() => server.close());

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

describe('bad requests', () => {
  it.each([
    ['malformed JSON', 'POST', CONFIGMAPS, { body: '{"metadata": {"name": ', contentType: 'application/json' }, 400, 'BadRequest'],
    ['malformed YAML in an apply', 'PATCH', `${CONFIGMAPS}/bad-yaml?fieldManager=x`, { body: 'metadata: {name: [', contentType: 'application/apply-patch+yaml' }, 400, 'BadRequest'],
    ['a body that is not an object', 'POST', CONFIGMAPS, { body: '[1, 2]', contentType: 'application/json' }, 400, 'BadRequest'],
    ['an unknown patch type', 'PATCH', `${CONFIGMAPS}/x`, { body: '{}', contentType: 'application/x-patch' }, 415, 'UnsupportedMediaType'],
    ['a protobuf body', 'POST', CONFIGMAPS, { body: 'k8s\u0000', contentType: 'application/vnd.kubernetes.protobuf' }, 415, 'UnsupportedMediaType'],
    ['POST to an object', 'POST', `${CONFIGMAPS}/x`, { body: '{}', contentType: 'application/json' }, 405, 'MethodNotAllowed'],
    ['PUT to a collection', 'PUT', CONFIGMAPS, { body: '{}', contentType: 'application/json' }, 405, 'MethodNotAllowed'],
    ['an unsupported dryRun value', 'POST', `${CONFIGMAPS}?dryRun=Sometimes`, { body: '{"metadata":{"name":"x"}}', contentType: 'application/json' }, 422, 'Invalid'],
    ['force on a merge patch', 'PATCH', `${CONFIGMAPS}/x?force=false`, { body: '{}', contentType: 'application/merge-patch+json' }, 422, 'Invalid'],
    ['a field manager over 128 characters', 'POST', `${CONFIGMAPS}?fieldManager=${'m'.repeat(129)}`, { body: '{"metadata":{"name":"x"}}', contentType: 'application/json' }, 422, 'Invalid'],
    ['a force value that is not a boolean', 'PATCH', `${CONFIGMAPS}/x?fieldManager=m&force=yes`, { body: '{}', contentType: 'application/apply-patch+yaml' }, 400, 'BadRequest'],
    ['a malformed path', 'GET', '/api/v1/namespaces/%E0%A4%A/configmaps', {}, 400, 'BadRequest'],
    ['an unknown resource', 'GET', '/api/v1/namespaces/default/gizmos', {}, 404, 'NotFound'],
    ['a cluster-scoped kind under a namespace', 'GET', '/api/v1/namespaces/default/namespaces', {}, 404, 'NotFound'],
  ] as const)('answers %s with %i %s', async (_case, method, path, options, code, reason) => {
    const response = await raw(server, method, path, options);
    expect(response.status).toBe(code);
    expect(response.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
  });

  it('validates write options before looking at the object, naming every problem like kube-apiserver', async () => {
    const response = await raw(server, 'PATCH', `${CONFIGMAPS}/missing?force=true&dryRun=Maybe`, { body: '{}', contentType: 'application/merge-patch+json' });
    expect(response.body['message']).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: [force: Forbidden: may not be specified for non-apply patch, dryRun: Unsupported value: ["Maybe"]: supported values: "All"]',
    );
  });

  it('refuses a body over 3 MiB with 413 and stores nothing', async () => {
    const body = JSON.stringify({ metadata: { name: 'huge' }, data: { blob: 'x'.repeat(3 * 1024 * 1024) } });
    const response = await raw(server, 'POST', CONFIGMAPS, { body, contentType: 'application/json' });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'huge' })).toBeUndefined();
    expect((await raw(server, 'GET', '/version')).status).toBe(200);
  });

  it('accepts a YAML body on create', async () => {
    const response = await raw(server, 'POST', CONFIGMAPS, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', contentType: 'application/yaml' });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ kind: 'ConfigMap', data: { a: '1' } });
  });

  it('serves a meta.k8s.io Table to clients that ask for one, as kubectl does for human output', async () => {
    const response = await fetch(`${server.url}/api/v1/namespaces`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' } });
    const table = (await response.json()) as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: string[]; object: { kind: string } }[] };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((column) => column.name)).toEqual(['Name', 'Age']);
    expect(table.rows.map((row) => row.cells[0])).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(table.rows[0]?.object.kind).toBe('PartialObjectMetadata');
  });
});
