import { readFileSync } from 'node:fs';
import type { HubConfig } from '../config/hub-config';
import type { RunningHub } from '../hub';

/**
 * What the hub prints about the fleet-admin token at start: the secret on the start that generated
 * it, and, for the demo (a local trial), on every start from the data folder, with a query to paste.
 * Otherwise only where to find it. Undefined when there is nothing to say (a preset token, no demo).
 */
export function adminTokenBanner(hub: RunningHub, config: HubConfig): string | undefined {
  const { generated, file } = hub.bootstrapAdmin;
  let token = generated;
  if (!token && config.demo && !config.auth.bootstrapAdminToken) token = readToken(file);
  if (!token) {
    if (config.auth.bootstrapAdminToken) return undefined;
    return `The fleet-admin token was generated at first start and written to ${file} (create more with createApiToken).`;
  }
  const query = JSON.stringify({ query: '{ clusters { name labels connected } appSets { name revision } }' });
  return [
    '',
    '  Fleet-admin API token (shown once at first start; also in ' + file + ', mode 0600):',
    `    ${token}`,
    '',
    `  Dashboard: ${hub.graphqlUrl.replace(/graphql$/, '')}   (sign in with the token above)`,
    `  GraphQL: ${hub.graphqlUrl}   (GraphiQL: add the header {"Authorization": "Bearer <token>"})`,
    '  Try it:',
    `    curl -s ${hub.graphqlUrl} -H "Authorization: Bearer $(cat ${file})" -H 'content-type: application/json' \\`,
    `      -d '${query}'`,
    `  Or with the command line:  FLOTILLA_TOKEN="$(cat ${file})" npx flotilla login --server ${hub.graphqlUrl.replace(/\/graphql$/, '')}`,
    '',
  ].join('\n');
}

function readToken(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
