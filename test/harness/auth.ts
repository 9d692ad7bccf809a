import { randomBytes } from 'node:crypto';

/**
 * The fleet-admin API token of this test process: every hub `startHub` starts gets it as
 * FLOTILLA_BOOTSTRAP_ADMIN_TOKEN (named `bootstrap-admin` by the hub) unless told otherwise. Made once
 * per process, so replicas and restarts within one test file share it; `flt_api_` + 32 random bytes
 * in base64url (43 characters), the hub's API token format.
 */
export const TEST_ADMIN_TOKEN = `flt_api_${randomBytes(32).toString('base64url')}`;

/** The hub's API token format: `flt_api_` and at least 32 base64url characters. */
export const API_TOKEN_PATTERN = /^flt_api_[A-Za-z0-9_-]{32,}$/;

/** The `Authorization` value that presents `token` (HTTP header, or graphql-ws `connection_init` payload). */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}
