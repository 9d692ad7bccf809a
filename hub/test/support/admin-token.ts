import { randomBytes } from 'node:crypto';

/**
 * The fleet-admin API token of this test process: pass it as FLOTILLA_BOOTSTRAP_ADMIN_TOKEN in the env
 * given to `loadHubConfig` and to `graphqlClient`. `flt_api_` + 32 random bytes in base64url, the hub's
 * API token format; made once per process, so every hub of a test file accepts it.
 */
export const TEST_ADMIN_TOKEN = `flt_api_${randomBytes(32).toString('base64url')}`;
