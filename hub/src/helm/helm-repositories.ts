import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parse } from 'yaml';

/** One chart repository of the hub's repositories file; only paths here, the secrets stay in their files. */
export interface HelmRepository {
  readonly name: string;
  /** The repository the AppSet's `repoURL` must start with (`https://charts.example.com`, `oci://registry.example.com/charts`). */
  readonly url: string;
  readonly usernameFile?: string;
  readonly passwordFile?: string;
  /** OCI: a Docker-style registry config (`config.json`) helm logs in with. */
  readonly registryConfigFile?: string;
  /** OCI over plain HTTP (a registry on loopback in tests). */
  readonly plainHttp?: boolean;
}

export interface RepositoryCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly registryConfigFile?: string;
  readonly plainHttp: boolean;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The repositories file (FLOTILLA_HELM_REPOSITORIES_FILE): read when a repository is asked for, so a
 * rotated Secret is picked up without a restart. Throws an Error with a message that names the entry
 * and never a credential.
 */
export class HelmRepositories {
  constructor(private readonly file: string | undefined) {}

  /** The entry named `name`, checked against the AppSet's `repoURL`. */
  find(name: string, repoURL: string): HelmRepository {
    const entry = this.list().find((r) => r.name === name);
    if (!entry) throw new Error(`helm repository "${name.slice(0, 64)}" is not in the hub's repositories file`);
    if (!sameRepository(entry.url, repoURL)) throw new Error(`helm repository "${name}" is for ${entry.url}, not for ${repoURL.slice(0, 200)}`);
    return entry;
  }

  /** The secrets of `entry`, read from their files. */
  credentials(entry: HelmRepository | undefined): RepositoryCredentials {
    if (!entry) return { plainHttp: false };
    const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path, 'utf8').trim());
    return {
      ...(entry.usernameFile !== undefined ? { username: read(entry.usernameFile) } : {}),
      ...(entry.passwordFile !== undefined ? { password: read(entry.passwordFile) } : {}),
      ...(entry.registryConfigFile !== undefined ? { registryConfigFile: entry.registryConfigFile } : {}),
      plainHttp: entry.plainHttp === true,
    };
  }

  private list(): HelmRepository[] {
    if (this.file === undefined) return [];
    const doc = parse(readFileSync(this.file, 'utf8'), { maxAliasCount: 10 }) as { repositories?: unknown } | null;
    const entries = doc?.repositories;
    if (!Array.isArray(entries)) throw new Error('the hub\'s helm repositories file must hold "repositories:", a list');
    return entries.map((raw, index) => checkEntry(raw, index));
  }
}

function checkEntry(raw: unknown, index: number): HelmRepository {
  const at = `repositories[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw new Error(`${at} of the hub's helm repositories file must be a mapping`);
  const entry = raw as Record<string, unknown>;
  const text = (key: string) => (entry[key] === undefined ? undefined : typeof entry[key] === 'string' ? (entry[key] as string) : badEntry(at, `${key} must be a string`));
  const file = (key: string) => {
    const path = text(key);
    if (path !== undefined && !isAbsolute(path)) badEntry(at, `${key} must be an absolute path`);
    return path;
  };
  const name = text('name');
  const url = text('url');
  if (name === undefined || !NAME.test(name)) badEntry(at, 'name must be a DNS label');
  if (url === undefined || !/^(https?|oci):\/\/[^\s@]+$/.test(url)) badEntry(at, 'url must be an http(s):// or oci:// URL without credentials');
  const plainHttp = entry['plainHttp'];
  if (plainHttp !== undefined && typeof plainHttp !== 'boolean') badEntry(at, 'plainHttp must be true or false');
  const known = new Set(['name', 'url', 'usernameFile', 'passwordFile', 'registryConfigFile', 'plainHttp']);
  const stray = Object.keys(entry).filter((k) => !known.has(k));
  if (stray.length > 0) badEntry(at, `unknown keys ${stray.join(', ')}`);
  const [usernameFile, passwordFile, registryConfigFile] = [file('usernameFile'), file('passwordFile'), file('registryConfigFile')];
  return {
    name: name!,
    url: url!.replace(/\/+$/, ''),
    ...(usernameFile !== undefined ? { usernameFile } : {}),
    ...(passwordFile !== undefined ? { passwordFile } : {}),
    ...(registryConfigFile !== undefined ? { registryConfigFile } : {}),
    ...(plainHttp === true ? { plainHttp: true } : {}),
  };
}

function badEntry(at: string, problem: string): never {
  throw new Error(`${at} of the hub's helm repositories file: ${problem}`);
}

/** Whether `repoURL` is `url` or below it (path-segment wise). */
function sameRepository(url: string, repoURL: string): boolean {
  const wanted = repoURL.replace(/\/+$/, '');
  return wanted === url || wanted.startsWith(`${url}/`);
}
