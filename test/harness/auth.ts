import { randomBytes } from 'node:crypto';

/**
 * The fleet-admin API token of this test process: every hub `startHub` starts gets it as
 * FLOTILLA_BOOTSTRAP_ADMIN_TOKEN (named `bootstrap-admin` by the hub) unless told otherwise. Made once
 * per process, so replicas and restarts within one test file share it; `flt_api_` + 32 random bytes
 * in base64url (43 characters), the hub's API token format.
 */
export const TEST_ADMIN_TOKEN = `flt_api_${randomBytes(32).toString('base64url')}`;

/**
 * The FLOTILLA_CA_ENCRYPTION_KEY of this test process (32 random bytes, base64), preset on every hub
 * `startHub` starts unless told otherwise, as the hub chart does from a Secret: replicas and restarts
 * with fresh data folders over one database must all open the agent-link CA stored there.
 */
export const TEST_CA_ENCRYPTION_KEY = randomBytes(32).toString('base64');

/** The hub's API token format: `flt_api_` and at least 32 base64url characters. */
export const API_TOKEN_PATTERN = /^flt_api_[A-Za-z0-9_-]{32,}$/;

/** The `Authorization` value that presents `token` (HTTP header, or graphql-ws `connection_init` payload). */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}
