import { isAbsolute, normalize } from 'node:path';

/** What the Git generator may reach on the hub's disk and network, and how long one git command may run. */
export interface LocalAccessConfig {
  /**
   * FLOTILLA_GIT_LOCAL_PATHS: absolute folders under which local paths and `file://` repository URLs
   * may be read. Empty (the default): no local repository at all. `--demo` (`npm start`) allows the
   * working directory when the variable is unset. The hub's own data folder is never readable.
   */
  readonly gitLocalPaths: readonly string[];
  /** FLOTILLA_GIT_ALLOWED_HOSTS: hosts (`git.example.com`, `*.example.com`, IP literals) outbound Git may reach; undefined (unset): any. */
  readonly gitAllowedHosts: readonly string[] | undefined;
  /** FLOTILLA_GIT_TIMEOUT_SECONDS: every git command is killed (with its helpers) after this long. */
  readonly gitTimeoutSeconds: number;
  /** FLOTILLA_GIT_CONNECT_TIMEOUT_SECONDS: connect timeout of ssh, and how long an http(s) transfer may stall. */
  readonly gitConnectTimeoutSeconds: number;
}

export const DEFAULT_GIT_TIMEOUT_SECONDS = 60;
export const DEFAULT_GIT_CONNECT_TIMEOUT_SECONDS = 10;

const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;
const IPV6 = /^\[?[0-9a-f:.]+\]?$/i;
const FALSE = ['0', 'false', 'no', 'off'];

/**
 * Reads FLOTILLA_GIT_LOCAL_PATHS, FLOTILLA_GIT_ALLOWED_HOSTS, FLOTILLA_GIT_TIMEOUT_SECONDS and
 * FLOTILLA_GIT_CONNECT_TIMEOUT_SECONDS, adding a line to `problems` for each bad value. `argv` tells
 * whether this is the `--demo` hub of `npm start`, whose default allows the working directory.
 */
export function loadLocalAccessConfig(env: Record<string, string | undefined>, problems: string[], argv: readonly string[] = []): LocalAccessConfig {
  const demo = argv.includes('--demo') && !argv.includes('--no-demo') && !FALSE.includes((env['FLOTILLA_DEMO'] ?? '').trim().toLowerCase());
  const pathsText = env['FLOTILLA_GIT_LOCAL_PATHS']?.trim();
  let gitLocalPaths: string[] = [];
  if (pathsText === undefined || pathsText === '') {
    // The demo's cwd is the checkout `npm start` runs in: its own repository is there to try a git generator on.
    if (demo) gitLocalPaths = [process.cwd()];
  } else {
    for (const entry of list(pathsText)) {
      if (!isAbsolute(entry)) problems.push(`FLOTILLA_GIT_LOCAL_PATHS entries must be absolute folders (got "${entry.slice(0, 120)}")`);
      else if (normalize(entry) === '/') problems.push('FLOTILLA_GIT_LOCAL_PATHS may not allow "/" (every path on the hub); list the folders that hold repositories');
      else gitLocalPaths.push(normalize(entry).replace(/\/+$/, ''));
    }
  }
  const hostsText = env['FLOTILLA_GIT_ALLOWED_HOSTS']?.trim();
  let gitAllowedHosts: string[] | undefined;
  if (hostsText !== undefined && hostsText !== '') {
    gitAllowedHosts = [];
    for (const entry of list(hostsText)) {
      if (HOST_NAME.test(entry) || (entry.includes(':') && IPV6.test(entry))) gitAllowedHosts.push(entry.toLowerCase().replace(/^\[|\]$/g, ''));
      else problems.push(`FLOTILLA_GIT_ALLOWED_HOSTS entries must be host names, *.domain wildcards or IP addresses, without scheme or port (got "${entry.slice(0, 120)}")`);
    }
    if (gitAllowedHosts.length === 0 && list(hostsText).length === 0) problems.push('FLOTILLA_GIT_ALLOWED_HOSTS must list at least one host (unset it to allow any)');
  }
  const gitTimeoutSeconds = seconds(env, problems, 'FLOTILLA_GIT_TIMEOUT_SECONDS', DEFAULT_GIT_TIMEOUT_SECONDS, 3600);
  const gitConnectTimeoutSeconds = seconds(env, problems, 'FLOTILLA_GIT_CONNECT_TIMEOUT_SECONDS', Math.min(DEFAULT_GIT_CONNECT_TIMEOUT_SECONDS, gitTimeoutSeconds), 300);
  if (gitConnectTimeoutSeconds > gitTimeoutSeconds) problems.push(`FLOTILLA_GIT_CONNECT_TIMEOUT_SECONDS (${gitConnectTimeoutSeconds}) may not exceed FLOTILLA_GIT_TIMEOUT_SECONDS (${gitTimeoutSeconds})`);
  return { gitLocalPaths, gitAllowedHosts, gitTimeoutSeconds, gitConnectTimeoutSeconds };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function seconds(env: Record<string, string | undefined>, problems: string[], name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    problems.push(`${name} must be an integer from 1 to ${max} (got "${raw.slice(0, 20)}")`);
    return fallback;
  }
  return value;
}
