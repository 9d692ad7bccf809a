import { createHash } from 'node:crypto';
import type { ResourceRegistry } from './registry.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';

/**
 * A minimal OpenAPI v3 surface. kubectl (apply, create, replace) validates manifests: it first asks
 * `/openapi/v3/<group-version>` whether the PATCH operation of the kind takes a `fieldValidation`
 * parameter, and if so leaves validation to the server instead of downloading `/openapi/v2` (which it
 * wants as protobuf). So each document lists the PATCH operations with their parameters and no schemas.
 */

const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function patchOperation(type: ResourceType): Record<string, unknown> {
  return {
    operationId: `patch${type.kind}`,
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
    parameters: QUERY_PARAMETERS.map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } })),
    requestBody: {
      content: Object.fromEntries(
        ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'].map((mediaType) => [
          mediaType,
          { schema: { type: 'object' } },
        ]),
      ),
      required: true,
    },
    responses: { '200': { description: 'OK' }, '201': { description: 'Created' } },
  };
}

/** The document of one group/version, or undefined when nothing is served there. */
export function groupVersionDocument(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.served().filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const type of types) {
    const base = `/${gvPath(type.group, type.version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}/{name}`;
    paths[base] = { patch: patchOperation(type) };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.35.0' }, paths, components: { schemas: {} } };
}

/** `/openapi/v3`: where each group/version document is, with a content hash as real servers give. */
export function openApiIndex(registry: ResourceRegistry): Record<string, unknown> {
  const groupVersions = new Map<string, { group: string; version: string }>();
  for (const type of registry.served()) groupVersions.set(apiVersionOf(type), { group: type.group, version: type.version });
  const paths: Record<string, unknown> = {};
  for (const { group, version } of groupVersions.values()) {
    const hash = createHash('sha512').update(JSON.stringify(groupVersionDocument(registry, group, version))).digest('hex').slice(0, 128).toUpperCase();
    paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
  }
  return { paths };
}
