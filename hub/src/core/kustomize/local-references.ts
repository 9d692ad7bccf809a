import { parse } from 'yaml';
import { maskUrlCredentials, urlCredentials } from '../safety/mask-credentials';

/** The file names kustomize looks for in a directory, in its order. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** Fields whose entries name files or directories kustomize loads (and would fetch when remote). */
const REFERENCE_FIELDS = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'] as const;
/** Fields that make kustomize run helm, which fetches charts: never allowed. */
const HELM_FIELDS = ['helmCharts', 'helmChartInflationGenerator', 'helmGlobals'] as const;
/** Most kustomizations one check visits: a bound on the walk, far above real repositories. */
const MAX_KUSTOMIZATIONS = 1_000;

/** Why a kustomization cannot be rendered from the repository alone. */
export interface ReferenceProblem {
  readonly code: 'KUSTOMIZE_REMOTE_BASE' | 'KUSTOMIZE_HELM_NOT_SUPPORTED' | 'KUSTOMIZE_NOT_FOUND' | 'KUSTOMIZE_INVALID';
  readonly message: string;
}

/**
 * Checks that the kustomization in directory `root` of a repository, and every kustomization it
 * reaches, references only files and directories of that repository: a URL, a `git@` or
 * `github.com/...` base, a path that climbs out of the repository, or any other entry that is not a
 * file or directory in `files` is refused (`KUSTOMIZE_REMOTE_BASE`), since kustomize would try to fetch
 * it. helm chart inflation is refused too. `files` maps every regular file of the repository (paths
 * relative to its root) to its text. Returns the first problem in a stable walk order, or null.
 */
export function checkLocalReferences(files: ReadonlyMap<string, string>, root: string): ReferenceProblem | null {
  const directories = new Set<string>(['.']);
  for (const file of files.keys()) {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  const visited = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    if (visited.has(dir)) continue;
    if (visited.size >= MAX_KUSTOMIZATIONS) return { code: 'KUSTOMIZE_INVALID', message: `The kustomization reaches more than ${MAX_KUSTOMIZATIONS} kustomizations.` };
    visited.add(dir);
    const name = KUSTOMIZATION_FILES.map((file) => joinPath(dir, file)).find((file) => files.has(file));
    if (name === undefined) {
      return { code: 'KUSTOMIZE_NOT_FOUND', message: `${dir} holds no kustomization.yaml, kustomization.yml or Kustomization.` };
    }
    let kustomization: unknown;
    try {
      kustomization = parse(files.get(name)!, { maxAliasCount: 100, prettyErrors: false });
    } catch (error) {
      return { code: 'KUSTOMIZE_INVALID', message: `${name} is not valid YAML: ${(error as Error).message.split('\n')[0]}` };
    }
    if (kustomization === null || typeof kustomization !== 'object' || Array.isArray(kustomization)) {
      return { code: 'KUSTOMIZE_INVALID', message: `${name} must be a mapping.` };
    }
    const fields = kustomization as Record<string, unknown>;
    const helm = HELM_FIELDS.find((field) => fields[field] !== undefined);
    if (helm) return { code: 'KUSTOMIZE_HELM_NOT_SUPPORTED', message: `${name} uses ${helm}; kustomize's helm inflation fetches charts and is not supported (use spec.template.helm).` };
    for (const field of REFERENCE_FIELDS) {
      const entries = fields[field];
      if (entries === undefined || entries === null) continue;
      if (!Array.isArray(entries)) return { code: 'KUSTOMIZE_INVALID', message: `${name}: ${field} must be a list.` };
      for (const entry of entries) {
        // Inline generator and transformer configurations are objects, not references.
        if (typeof entry !== 'string') continue;
        const target = isRemoteLooking(entry) ? undefined : normalizeJoin(dir, entry);
        if (target !== undefined && files.has(target)) continue;
        if (target !== undefined && directories.has(target)) {
          queue.push(target);
          continue;
        }
        const shown = maskUrlCredentials(entry, urlCredentials(entry)).slice(0, 200);
        return {
          code: 'KUSTOMIZE_REMOTE_BASE',
          message: `${name}: ${field} entry "${shown}" is not a file or directory of the repository; remote bases are not fetched (kustomize reads only the AppSet's repository).`,
        };
      }
    }
  }
  return null;
}

/** A URL, an scp-like `git@host:path`, or a `host.tld/...` form that kustomize treats as a remote Git base. */
function isRemoteLooking(entry: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(entry) || /^[^/]+@[^/]+:/.test(entry) || entry.includes('?ref=') || entry.includes('//');
}

/** `entry` resolved against directory `dir`, both repository-relative; undefined when it climbs out. */
function normalizeJoin(dir: string, entry: string): string | undefined {
  if (entry.startsWith('/')) return undefined;
  const parts: string[] = dir === '.' ? [] : dir.split('/');
  for (const part of entry.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

function joinPath(dir: string, file: string): string {
  return dir === '.' ? file : `${dir}/${file}`;
}
