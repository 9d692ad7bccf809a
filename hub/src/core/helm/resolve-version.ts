import { clean, maxSatisfying, rcompare, valid, validRange } from 'semver';

/** The version picked for a request, or why none could be. */
export type VersionChoice = { readonly ok: true; readonly version: string } | { readonly ok: false; readonly code: 'CHART_VERSION_INVALID' | 'CHART_VERSION_NOT_FOUND'; readonly message: string };

/** Most versions named in a "not found" message. */
const LISTED = 10;

/**
 * Picks the version of a chart to render from the versions a repository lists (index.yaml entries, OCI
 * tags). An exact version must be listed as written (a leading `v` is tolerated, as helm does); a range
 * picks the highest listed version satisfying it, prereleases only when the range names one (helm's
 * rule). No version: the highest stable one. Pure: the caller fetched `available`.
 */
export function resolveChartVersion(chart: string, requested: string | undefined, available: readonly string[]): VersionChoice {
  const listed = available.filter((v) => valid(v, { loose: false }) !== null);
  const wanted = requested?.trim() ?? '';
  if (wanted !== '' && valid(wanted) !== null) {
    const exact = listed.find((v) => clean(v) === clean(wanted));
    if (exact !== undefined) return { ok: true, version: exact };
    return notFound(chart, wanted, listed);
  }
  const range = wanted === '' ? '*' : wanted;
  if (validRange(range) === null) return { ok: false, code: 'CHART_VERSION_INVALID', message: `version "${wanted.slice(0, 80)}" of chart ${chart} is neither a version nor a semver range.` };
  const best = maxSatisfying(listed, range);
  if (best === null) return notFound(chart, wanted === '' ? 'any stable version' : wanted, listed);
  return { ok: true, version: best };
}

function notFound(chart: string, wanted: string, listed: readonly string[]): VersionChoice {
  const newest = [...listed].sort(rcompare).slice(0, LISTED);
  const known = newest.length === 0 ? 'the repository lists no versions of it' : `listed: ${newest.join(', ')}${listed.length > LISTED ? ', …' : ''}`;
  return { ok: false, code: 'CHART_VERSION_NOT_FOUND', message: `chart ${chart} has no version ${wanted} (${known}).` };
}
