import { Health, LIMITS, SyncStatus, truncateText } from '@flotilla/proto';
import type { DriftedValue } from '../kube/drift-values.js';

/**
 * How per-resource health adds up to App health, and how a Report stays bounded.
 */

/** The judged state of one managed object. */
export interface ResourceHealth {
  readonly apiVersion: string;
  readonly kind: string;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly health: Health;
  readonly message: string;
  /** Live state differs from the applied revision. */
  readonly drifted: boolean;
  /**
   * Paths of the fields that drifted, e.g. `spec.replicas`, `data.color`,
   * `spec.template.spec.containers[name=web].image`. Absent or empty when unknown or not drifted.
   */
  readonly driftedFields?: readonly string[];
  /** What the drifted fields hold on each side (secret ones redacted); absent or empty when unknown. */
  readonly driftedValues?: readonly DriftedValue[];
}

/**
 * A resource as it goes into a Report: `driftedFields` always present, sorted and bounded;
 * `driftedValues` always present, one entry at most per kept path, in the order of the paths.
 */
export interface ReportedResource extends ResourceHealth {
  readonly driftedFields: readonly string[];
  readonly driftedValues: readonly DriftedValue[];
}

/** Everything a Report says about one App, before bounding. */
export interface ReportInput {
  readonly appName: string;
  /** The revision that was judged. */
  readonly revision: string;
  readonly generation: bigint;
  readonly health: Health;
  readonly syncStatus: SyncStatus;
  /** Summary; when empty, one is derived from the resources. */
  readonly message: string;
  readonly resources: readonly ResourceHealth[];
  /** When the judgement was made, milliseconds since the Unix epoch. */
  readonly observedAtUnixMs: number;
}

/** The bounded content of a Report (fields of the `Report` message). */
export interface ReportContent {
  readonly appName: string;
  readonly revision: string;
  readonly generation: bigint;
  readonly health: Health;
  readonly syncStatus: SyncStatus;
  readonly message: string;
  readonly resources: readonly ReportedResource[];
  readonly resourcesTruncated: boolean;
  readonly observedAtUnixMs: bigint;
}

/** Bounds applied by {@link buildReportContent}. */
export interface ReportLimits {
  readonly maxResources: number;
  readonly maxTextChars: number;
  /** Most drifted field paths kept per resource. */
  readonly maxDriftedFields: number;
  /** Longest drifted field path kept, in characters. */
  readonly maxFieldPathChars: number;
  /** Longest value of a drifted field kept, in characters (cut with a marker). */
  readonly maxDriftValueChars: number;
  /** Most characters of drifted field values in one Report; values past it are left out, paths stay. */
  readonly maxDriftValueCharsPerReport: number;
}

/** The protocol's report bounds. */
export const REPORT_LIMITS: ReportLimits = {
  maxResources: LIMITS.maxResourcesPerReport,
  maxTextChars: LIMITS.maxTextChars,
  maxDriftedFields: LIMITS.maxDriftedFields,
  // A path names fields, list keys and map keys; 256 characters hold any real one (a ConfigMap key
  // alone is at most 253) while keeping the worst-case Report small.
  maxFieldPathChars: 256,
  maxDriftValueChars: LIMITS.maxDriftValueChars,
  maxDriftValueCharsPerReport: LIMITS.maxDriftValueCharsPerReport,
};

// Higher is worse. UNSPECIFIED means nobody judged, which is as bad as UNKNOWN.
const SEVERITY: Readonly<Record<Health, number>> = {
  [Health.HEALTHY]: 0,
  [Health.UNSPECIFIED]: 1,
  [Health.UNKNOWN]: 1,
  [Health.SUSPENDED]: 2,
  [Health.PROGRESSING]: 3,
  [Health.MISSING]: 4,
  [Health.DEGRADED]: 5,
};

/** Display names of health values, as in the protocol and the API. */
export const HEALTH_NAMES: Readonly<Record<Health, string>> = {
  [Health.UNSPECIFIED]: 'UNKNOWN',
  [Health.HEALTHY]: 'HEALTHY',
  [Health.PROGRESSING]: 'PROGRESSING',
  [Health.DEGRADED]: 'DEGRADED',
  [Health.SUSPENDED]: 'SUSPENDED',
  [Health.MISSING]: 'MISSING',
  [Health.UNKNOWN]: 'UNKNOWN',
};

/** Rank of a health value: DEGRADED > MISSING > PROGRESSING > SUSPENDED > UNKNOWN > HEALTHY. */
export function healthSeverity(health: Health): number {
  return SEVERITY[health] ?? SEVERITY[Health.UNKNOWN];
}

/**
 * App health from resource health: the worst value wins. No resources means nothing can be unhealthy,
 * so an empty list is HEALTHY. UNSPECIFIED counts as, and is returned as, UNKNOWN.
 */
export function aggregateHealth(healths: Iterable<Health>): Health {
  let worst: Health = Health.HEALTHY;
  for (const health of healths) {
    if (healthSeverity(health) > healthSeverity(worst)) worst = health;
  }
  return worst === Health.UNSPECIFIED ? Health.UNKNOWN : worst;
}

/** Orders resources worst health first, then by kind, namespace and name (a stable total order). */
export function compareResources(a: ResourceHealth, b: ResourceHealth): number {
  return (
    healthSeverity(b.health) - healthSeverity(a.health) ||
    compareText(a.kind, b.kind) ||
    compareText(a.namespace, b.namespace) ||
    compareText(a.name, b.name) ||
    compareText(a.apiVersion, b.apiVersion)
  );
}

/**
 * Builds the content of a Report within `limits`: resources sorted by {@link compareResources} and cut
 * to `maxResources` (so the unhealthy ones survive the cut), `resourcesTruncated` set when any were
 * cut, every message cut to `maxTextChars`, and each resource's drifted field paths cut to
 * `maxFieldPathChars`, de-duplicated, sorted and cut to the first `maxDriftedFields`. Drifted values
 * follow their paths (one per kept path, values cut to `maxDriftValueChars`); once the values of the
 * Report reach `maxDriftValueCharsPerReport` characters, later fields (in resource order, worst
 * first) keep their path and lose their values. Does not mutate `input`.
 */
export function buildReportContent(input: ReportInput, limits: ReportLimits = REPORT_LIMITS): ReportContent {
  const sorted = [...input.resources].sort(compareResources);
  const kept = sorted.slice(0, Math.max(0, limits.maxResources));
  const message = input.message !== '' ? input.message : summarizeResources(input.resources);
  const budget = { left: Math.max(0, limits.maxDriftValueCharsPerReport) };
  return {
    appName: input.appName,
    revision: input.revision,
    generation: input.generation,
    health: input.health,
    syncStatus: input.syncStatus,
    message: truncateText(message, limits.maxTextChars),
    resources: kept.map((resource) => {
      const driftedFields = boundFieldPaths(resource.driftedFields ?? [], limits);
      return {
        ...resource,
        message: truncateText(resource.message, limits.maxTextChars),
        driftedFields,
        driftedValues: boundDriftValues(resource.driftedValues ?? [], driftedFields, limits, budget),
      };
    }),
    resourcesTruncated: kept.length < sorted.length,
    observedAtUnixMs: BigInt(Math.trunc(input.observedAtUnixMs)),
  };
}

/**
 * A one-line summary of resource health, e.g. `2 of 5 resources not healthy: 1 DEGRADED, 1 PROGRESSING`.
 * Empty when every resource is healthy (or there are none).
 */
export function summarizeResources(resources: readonly ResourceHealth[]): string {
  const counts = new Map<string, number>();
  let unhealthy = 0;
  for (const resource of [...resources].sort(compareResources)) {
    if (resource.health === Health.HEALTHY) continue;
    unhealthy += 1;
    const name = HEALTH_NAMES[resource.health] ?? 'UNKNOWN';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (unhealthy === 0) return '';
  const parts = [...counts].map(([name, count]) => `${count} ${name}`);
  return `${unhealthy} of ${resources.length} resources not healthy: ${parts.join(', ')}`;
}

// Sorted so that the same drift always reads the same, and so that which paths survive the cut does not
// depend on the order the driver found them in. Empty paths carry nothing and are dropped.
function boundFieldPaths(paths: readonly string[], limits: ReportLimits): string[] {
  const unique = new Set<string>();
  for (const path of paths) {
    if (typeof path === 'string' && path !== '') unique.add(truncateText(path, limits.maxFieldPathChars));
  }
  return [...unique].sort(compareText).slice(0, Math.max(0, limits.maxDriftedFields));
}

// One entry per kept path, in path order. A value's path is cut as its field's path was, so the two
// still match. Redacted entries carry no value whatever the input says.
function boundDriftValues(values: readonly DriftedValue[], paths: readonly string[], limits: ReportLimits, budget: { left: number }): DriftedValue[] {
  const byPath = new Map<string, DriftedValue>();
  for (const value of values) {
    const path = truncateText(value.path, limits.maxFieldPathChars);
    if (!byPath.has(path)) byPath.set(path, value);
  }
  const out: DriftedValue[] = [];
  for (const path of paths) {
    const value = byPath.get(path);
    if (value === undefined) continue;
    if (value.redacted) {
      out.push({ path, redacted: true });
      continue;
    }
    const expected = value.expected === undefined ? undefined : truncateText(value.expected, limits.maxDriftValueChars);
    const live = value.live === undefined ? undefined : truncateText(value.live, limits.maxDriftValueChars);
    const cost = (expected?.length ?? 0) + (live?.length ?? 0);
    if (cost > budget.left) {
      budget.left = 0;
      continue;
    }
    budget.left -= cost;
    out.push({ path, ...(expected !== undefined ? { expected } : {}), ...(live !== undefined ? { live } : {}), redacted: false });
  }
  return out;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
