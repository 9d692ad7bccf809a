import { parse } from 'yaml';

/** What a chart directory read from Git is, or why it cannot be rendered (`code` is the issue code). */
export type GitChartCheck = { readonly ok: true; readonly name: string; readonly version: string } | { readonly ok: false; readonly code: string; readonly message: string };

/** A chart `path` inside a repository: relative, normalised, no `..`; `.` is the repository root. */
export function normaliseChartPath(path: string): string | undefined {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..') || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return undefined;
  return parts.length === 0 ? '.' : parts.join('/');
}

/**
 * Checks a chart directory read from a Git commit before helm sees it: `files` are its regular files,
 * paths relative to the chart directory. It must hold a Chart.yaml with a name and a version, and every
 * dependency it declares must be vendored as an unpacked chart under `charts/<name>/` (the hub never
 * runs `helm dependency build`: it fetches nothing but the repository). Packed `.tgz` subcharts are
 * refused: files are read from Git as text.
 */
export function checkGitChart(files: ReadonlyMap<string, string>, where: string): GitChartCheck {
  const chartYaml = files.get('Chart.yaml');
  if (chartYaml === undefined) return { ok: false, code: 'HELM_GIT_CHART_NOT_FOUND', message: `${where} holds no Chart.yaml.` };
  let chart: unknown;
  try {
    chart = parse(chartYaml, { maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, code: 'HELM_GIT_CHART_INVALID', message: `${where}/Chart.yaml is not valid YAML: ${(error as Error).message.split('\n')[0]!.slice(0, 200)}` };
  }
  const fields = typeof chart === 'object' && chart !== null && !Array.isArray(chart) ? (chart as Record<string, unknown>) : {};
  const name = typeof fields['name'] === 'string' ? fields['name'] : '';
  const version = typeof fields['version'] === 'string' || typeof fields['version'] === 'number' ? String(fields['version']) : '';
  if (name === '' || version === '') return { ok: false, code: 'HELM_GIT_CHART_INVALID', message: `${where}/Chart.yaml must name the chart and its version.` };
  const packed = [...files.keys()].find((path) => /^charts\/[^/]+\.tgz$/.test(path));
  if (packed !== undefined) {
    return { ok: false, code: 'HELM_GIT_DEPENDENCY_PACKED', message: `${where}/${packed}: a packed subchart cannot be read from Git; vendor it unpacked as ${packed.replace(/-?[0-9][^/]*\.tgz$|\.tgz$/, '')}/.` };
  }
  const dependencies = Array.isArray(fields['dependencies']) ? (fields['dependencies'] as unknown[]) : [];
  for (const dependency of dependencies.slice(0, 1000)) {
    const entry = typeof dependency === 'object' && dependency !== null ? (dependency as Record<string, unknown>) : {};
    const depName = typeof entry['name'] === 'string' ? entry['name'] : '';
    if (depName === '' || !files.has(`charts/${depName}/Chart.yaml`)) {
      return {
        ok: false,
        code: 'HELM_GIT_DEPENDENCY_NOT_VENDORED',
        message: `${where}: dependency "${depName.slice(0, 100)}" is not vendored under charts/${depName.slice(0, 100)}/; the hub does not download dependencies: commit them unpacked with the chart.`,
      };
    }
  }
  return { ok: true, name, version };
}

/** Where one `valueFiles` entry of a chart from Git is, or why it cannot be read (`code` is the issue code). */
export type GitValueFilePlace =
  /** Inside the chart directory: `path` is relative to it. */
  | { readonly ok: true; readonly where: 'chart'; readonly path: string }
  /** Elsewhere in the repository: `path` is relative to the repository's root. */
  | { readonly ok: true; readonly where: 'repository'; readonly path: string }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Places a `valueFiles` entry of a chart read from Git, as Argo CD does: a relative path is relative to
 * the chart's directory `chartPath` (as {@link normaliseChartPath} returns it) and may leave it
 * (`../../envs/prod/values.yaml`), an absolute path (`/envs/prod/values.yaml`) is relative to the
 * repository's root; neither may leave the repository (`HELM_VALUE_FILE_OUTSIDE_REPOSITORY`). Empty
 * paths, backslashes and NUL are refused (`HELM_VALUE_FILE_INVALID`). Whether the file exists is not
 * decided here.
 */
export function placeGitValueFile(chartPath: string, file: string): GitValueFilePlace {
  const shown = file.slice(0, 200);
  if (file.trim() === '' || file.includes('\\') || file.includes('\0')) {
    return { ok: false, code: 'HELM_VALUE_FILE_INVALID', message: `values file "${shown}" must be a path with "/" separators.` };
  }
  const chart = chartPath === '.' ? [] : chartPath.split('/');
  const segments: string[] = file.startsWith('/') ? [] : [...chart];
  for (const part of file.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (segments.length === 0) {
        return {
          ok: false,
          code: 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY',
          message: `values file "${shown}" leaves the repository; valueFiles of a chart from Git are relative to its path (${chartPath}), or to the repository's root when they start with "/".`,
        };
      }
      segments.pop();
      continue;
    }
    segments.push(part);
  }
  if (segments.length === 0) return { ok: false, code: 'HELM_VALUE_FILE_INVALID', message: `values file "${shown}" names a directory, not a file.` };
  const inChart = chart.length === 0 || (segments.length > chart.length && chart.every((part, index) => segments[index] === part));
  return inChart ? { ok: true, where: 'chart', path: segments.slice(chart.length).join('/') } : { ok: true, where: 'repository', path: segments.join('/') };
}
