import { matchesSelector } from '../generators/label-selector';
import { childPath, issue, type Issue } from '../issues';
import { parseDuration, resolveCount } from './duration';
import { DEFAULT_STRATEGY, type ByLabelSpec, type CountOrPercent, type FailurePolicy, type OfflinePolicy, type RolloutStrategy, type WaveSpec } from './strategy';

/** A cluster as the planner sees it. */
export interface PlanCluster {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Whether its agent is connected now; absent counts as connected. Canaries prefer connected clusters. */
  readonly online?: boolean;
}

/** One wave with every number resolved. Clusters are sorted by name. */
export interface PlannedWave {
  readonly name: string;
  readonly clusters: readonly string[];
  readonly maxConcurrency: number;
  readonly maxFailures: number;
  readonly soakMs: number;
  readonly progressDeadlineMs: number;
  readonly approval: boolean;
}

/** The persisted plan of a rollout: ordered waves and the policies the stepper applies. */
export interface WavePlan {
  readonly waves: readonly PlannedWave[];
  readonly offlineClusters: OfflinePolicy;
  readonly offlineDeadlineMs: number;
  readonly onFailure: FailurePolicy;
}

const DEFAULTS = { maxConcurrency: '25%' as CountOrPercent, maxFailures: 0 as CountOrPercent, soak: '30s', progressDeadline: '10m' };

/**
 * Plans the waves of a rollout over the target clusters. Every cluster lands in exactly one wave:
 * with explicit `waves`, the first whose selector matches; clusters no wave selects go to a final wave
 * named `remaining` (limits of the last wave, but never its `approval`: an implicit wave does not
 * silently wait for anyone), so that nothing is silently left out. With `byLabel`, one wave per label
 * value (in `order`, then sorted), clusters without the label last, after an optional canary wave that
 * takes connected clusters of each group first (a group with none connected gives no canary: an offline
 * canary would only delay the rollout) and honours `maxConcurrency`. Empty waves are dropped. Returns
 * issues (with paths under `spec.strategy`) instead of a plan when a value is invalid. Pure: no clock,
 * inputs untouched, output sorted.
 */
export function planWaves(strategy: RolloutStrategy | undefined, clusters: readonly PlanCluster[]): { plan?: WavePlan; issues: Issue[] } {
  const chosen = strategy && (strategy.waves || strategy.byLabel) ? strategy : { ...DEFAULT_STRATEGY, ...(strategy ?? {}) };
  const issues: Issue[] = [];
  if (chosen.waves && chosen.byLabel) issues.push(issue('STRATEGY_CONFLICT', 'spec.strategy', 'Give either waves or byLabel, not both.'));
  const sorted = [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const groups = chosen.waves ? groupByWaves(chosen.waves, sorted) : groupByLabel(chosen.byLabel!, sorted);
  const waves: PlannedWave[] = [];
  const names = new Set<string>();
  for (const group of groups) {
    if (names.has(group.spec.name)) issues.push(issue('DUPLICATE_WAVE', group.path, `Wave "${group.spec.name}" appears twice.`));
    names.add(group.spec.name);
    const resolved = resolveWave(group.spec, group.clusters, group.path, issues);
    if (resolved && resolved.clusters.length > 0) waves.push(resolved);
  }
  const offlineDeadlineMs = parseDuration(chosen.offlineDeadline ?? '10m');
  if (offlineDeadlineMs === undefined) issues.push(issue('INVALID_DURATION', 'spec.strategy.offlineDeadline', 'offlineDeadline must be a duration like 10m.'));
  if (issues.length > 0) return { issues };
  return {
    plan: { waves, offlineClusters: chosen.offlineClusters ?? 'wait', offlineDeadlineMs: offlineDeadlineMs!, onFailure: chosen.onFailure ?? 'pause' },
    issues: [],
  };
}

interface Group {
  readonly spec: WaveSpec;
  readonly clusters: readonly string[];
  readonly path: string;
}

function groupByWaves(specs: readonly WaveSpec[], clusters: readonly PlanCluster[]): Group[] {
  const taken = new Set<string>();
  const groups: Group[] = specs.map((spec, index) => {
    const members = clusters.filter((c) => !taken.has(c.name) && matchesSelector(c.labels, spec.selector)).map((c) => c.name);
    members.forEach((m) => taken.add(m));
    return { spec, clusters: members, path: childPath('spec.strategy.waves', index) };
  });
  const rest = clusters.filter((c) => !taken.has(c.name)).map((c) => c.name);
  const last = specs[specs.length - 1];
  // The implicit wave takes the last wave's limits but not its approval gate: a gate is a decision the
  // user writes on a wave; clusters nobody named should not wait on one they never saw (Argo CD's and
  // Fleet's implicit groups do not gate either). A final selector-less wave with approval gates them.
  if (rest.length > 0) groups.push({ spec: { ...(last ?? {}), name: 'remaining', selector: undefined, approval: false }, clusters: rest, path: 'spec.strategy.waves' });
  return groups;
}

function groupByLabel(spec: ByLabelSpec, clusters: readonly PlanCluster[]): Group[] {
  const byValue = new Map<string, PlanCluster[]>();
  const unlabeled: PlanCluster[] = [];
  for (const cluster of clusters) {
    const value = cluster.labels[spec.label];
    if (value === undefined) unlabeled.push(cluster);
    else byValue.set(value, [...(byValue.get(value) ?? []), cluster]);
  }
  const order = [...(spec.order ?? []).filter((v) => byValue.has(v)), ...[...byValue.keys()].filter((v) => !(spec.order ?? []).includes(v)).sort()];
  const ordered = order.map((value) => ({ value, members: byValue.get(value)! }));
  if (unlabeled.length > 0) ordered.push({ value: `no-${spec.label}`, members: unlabeled });
  const base: Omit<WaveSpec, 'name'> = {
    maxConcurrency: spec.maxConcurrency,
    maxFailures: spec.maxFailures,
    soak: spec.soak,
    progressDeadline: spec.progressDeadline,
    approval: spec.approval,
  };
  const groups: Group[] = [];
  if (spec.canary) {
    const perGroup = spec.canary.perGroup ?? 1;
    const picked = new Set(ordered.flatMap((g) => g.members.filter((m) => m.online !== false).slice(0, perGroup).map((m) => m.name)));
    groups.push({
      spec: { ...base, name: 'canary', maxConcurrency: spec.canary.maxConcurrency ?? spec.maxConcurrency, soak: spec.canary.soak ?? spec.soak, approval: spec.canary.approval ?? false },
      clusters: [...picked].sort(),
      path: 'spec.strategy.byLabel.canary',
    });
    ordered.forEach((g) => (g.members = g.members.filter((m) => !picked.has(m.name))));
  }
  for (const group of ordered) groups.push({ spec: { ...base, name: group.value }, clusters: group.members.map((m) => m.name), path: 'spec.strategy.byLabel' });
  return groups;
}

function resolveWave(spec: WaveSpec, clusters: readonly string[], path: string, issues: Issue[]): PlannedWave | undefined {
  const size = clusters.length;
  const maxConcurrency = resolveCount(spec.maxConcurrency ?? DEFAULTS.maxConcurrency, size, 1);
  const maxFailures = resolveCount(spec.maxFailures ?? DEFAULTS.maxFailures, size, 0);
  const soakMs = parseDuration(spec.soak ?? DEFAULTS.soak);
  const progressDeadlineMs = parseDuration(spec.progressDeadline ?? DEFAULTS.progressDeadline);
  const bad = (field: string, what: string) => issues.push(issue('INVALID_STRATEGY', childPath(path, field), `${field} must be ${what}.`));
  if (maxConcurrency === undefined) bad('maxConcurrency', 'a whole number or a percentage like "25%"');
  if (maxFailures === undefined) bad('maxFailures', 'a whole number or a percentage like "10%"');
  if (soakMs === undefined) bad('soak', 'a duration like 30s');
  if (progressDeadlineMs === undefined || progressDeadlineMs === 0) bad('progressDeadline', 'a positive duration like 10m');
  if (maxConcurrency === undefined || maxFailures === undefined || soakMs === undefined || !progressDeadlineMs) return undefined;
  return { name: spec.name, clusters: [...clusters].sort(), maxConcurrency, maxFailures, soakMs, progressDeadlineMs, approval: spec.approval ?? false };
}
