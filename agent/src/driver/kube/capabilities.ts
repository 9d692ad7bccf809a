import { CAPABILITY_LIMITS, checkCapabilities, truncateText } from '@flotilla/proto';
import { isRecord } from '../../core/kube/object-ref.js';
import type { DriverCapabilities } from '../cluster-driver.js';
import { messageOf, type KubeClient } from './kube-client.js';

/** Most group/versions read (one request each); a cluster serving more is reported as over the cap. */
const MAX_GROUP_VERSIONS = 512;
/** Group/versions read at once. */
const PARALLEL_READS = 8;
/** Longest discovery error sent to the hub. */
const MAX_ERROR_CHARS = 400;

/**
 * The cluster's capabilities from legacy discovery, as `helm template` builds `.Capabilities` from a
 * live cluster: `/version`'s gitVersion, every served group/version (`/api`, `/apis`) and every kind of
 * each (`apps/v1/Deployment`; subresources are left out). Checked against the protocol's caps here, so
 * that Hello never carries what the hub would refuse; never throws.
 */
export async function discoverCapabilities(client: KubeClient): Promise<DriverCapabilities> {
  try {
    const version: unknown = await client.request('GET', '/version');
    const kubernetesVersion = isRecord(version) && typeof version['gitVersion'] === 'string' ? version['gitVersion'] : '';
    const groupVersions = [...(await coreVersions(client)), ...(await groupVersionsOf(client))];
    if (groupVersions.length > MAX_GROUP_VERSIONS) return failed(kubernetesVersion, `the cluster serves ${groupVersions.length} group/versions, over the ${MAX_GROUP_VERSIONS} the agent reads`);
    const apiVersions: string[] = [];
    for (let start = 0; start < groupVersions.length; start += PARALLEL_READS) {
      const batch = groupVersions.slice(start, start + PARALLEL_READS);
      for (const kinds of await Promise.all(batch.map((gv) => kindsOf(client, gv)))) apiVersions.push(...kinds);
      if (apiVersions.length > CAPABILITY_LIMITS.maxApiVersions) break; // the check below says so
    }
    const check = checkCapabilities(kubernetesVersion, apiVersions);
    return check.ok ? { ...check.capabilities, discoveryError: '' } : failed(kubernetesVersion, check.problem);
  } catch (error) {
    return failed('', messageOf(error));
  }
}

function failed(kubernetesVersion: string, problem: string): DriverCapabilities {
  return { kubernetesVersion: kubernetesVersion.slice(0, CAPABILITY_LIMITS.maxKubernetesVersionChars), apiVersions: [], discoveryError: truncateText(problem, MAX_ERROR_CHARS) };
}

async function coreVersions(client: KubeClient): Promise<string[]> {
  const api: unknown = await client.request('GET', '/api');
  const versions = isRecord(api) && Array.isArray(api['versions']) ? api['versions'] : [];
  return versions.filter((v): v is string => typeof v === 'string');
}

async function groupVersionsOf(client: KubeClient): Promise<string[]> {
  const apis: unknown = await client.request('GET', '/apis');
  const groups = isRecord(apis) && Array.isArray(apis['groups']) ? apis['groups'] : [];
  const out: string[] = [];
  for (const group of groups) {
    const versions = isRecord(group) && Array.isArray(group['versions']) ? group['versions'] : [];
    for (const version of versions) if (isRecord(version) && typeof version['groupVersion'] === 'string') out.push(version['groupVersion']);
  }
  return out;
}

/** `gv` and `gv/Kind` for each kind it serves. */
async function kindsOf(client: KubeClient, groupVersion: string): Promise<string[]> {
  const path = groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
  const list: unknown = await client.request('GET', path);
  const resources = isRecord(list) && Array.isArray(list['resources']) ? list['resources'] : [];
  const kinds = new Set<string>();
  for (const resource of resources) {
    if (!isRecord(resource) || typeof resource['name'] !== 'string' || typeof resource['kind'] !== 'string') continue;
    if (resource['name'].includes('/')) continue; // a subresource (deployments/scale)
    kinds.add(`${groupVersion}/${resource['kind']}`);
  }
  return [groupVersion, ...kinds];
}
