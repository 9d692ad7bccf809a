import type { WavePlan } from './plan-waves';

/**
 * Where one cluster of a rollout stands, as the service derives it from releases and reports:
 * - `PENDING`: not released yet;
 * - `RELEASED`: released at `releasedAt`, not yet healthy **at the new revision**;
 * - `HEALTHY`: reported healthy for the new revision since `healthySince` (a report naming an older
 *   revision never makes a cluster HEALTHY);
 * - `FAILED`: refused, or judged degraded at the new revision;
 * - `SKIPPED`: left out (offline under the `skip` policy, or its offline deadline passed).
 */
export interface ClusterStatus {
  readonly cluster: string;
  readonly state: 'PENDING' | 'RELEASED' | 'HEALTHY' | 'FAILED' | 'SKIPPED';
  readonly releasedAt?: number;
  readonly healthySince?: number;
  readonly online: boolean;
  /** When the agent was last heard from (for offline deadlines), ms since epoch. */
  readonly lastSeenAt?: number;
}

/** What the service should do now. Lists are sorted by cluster name. */
export interface RolloutStep {
  /** Clusters to release now (never more than the wave's free concurrency). */
  readonly release: readonly string[];
  /** Offline clusters to mark SKIPPED now. */
  readonly skip: readonly string[];
  /** Released clusters that missed their progress deadline (they count as failures). */
  readonly timedOut: readonly string[];
  /** The failure budget of the current wave is breached: apply the plan's `onFailure`. */
  readonly halted: boolean;
  /** Every wave is done. */
  readonly done: boolean;
  /** The wave being worked on (undefined when done). */
  readonly currentWave?: string;
  /** The current wave waits for an explicit approval before releasing anything. */
  readonly awaitingApproval: boolean;
  /** Call again after this long at the latest (soak ending, a deadline passing); undefined: only on events. */
  readonly recheckAfterMs?: number;
  /** Human-readable explanations of why the rollout is where it is. */
  readonly reasons: readonly string[];
}

/**
 * Decides the next step of a rollout: waves strictly in order (a wave starts only once every earlier
 * one is done), at most `maxConcurrency` clusters of the wave released and not yet healthy, a wave
 * done only when each cluster has stayed healthy on the new revision for the soak time (or was
 * skipped, or failed within the budget), and a halt as soon as failures (including progress-deadline
 * timeouts) exceed `maxFailures`. Never reads a clock, never mutates its inputs.
 */
export function nextRolloutStep(plan: WavePlan, statuses: readonly ClusterStatus[], approvedWaves: ReadonlySet<string>, now: number): RolloutStep {
  const byCluster = new Map(statuses.map((s) => [s.cluster, s]));
  const reasons: string[] = [];
  let recheck: number | undefined;
  const soonest = (ms: number) => (recheck = recheck === undefined ? Math.max(0, ms) : Math.min(recheck, Math.max(0, ms)));

  for (const wave of plan.waves) {
    const members = wave.clusters.map((name) => byCluster.get(name) ?? { cluster: name, state: 'PENDING' as const, online: false });
    const timedOut = members
      .filter((m) => m.state === 'RELEASED' && m.releasedAt !== undefined && now - m.releasedAt >= wave.progressDeadlineMs)
      .map((m) => m.cluster);
    const failed = members.filter((m) => m.state === 'FAILED').length + timedOut.length;
    if (failed > wave.maxFailures) {
      reasons.push(`wave ${wave.name}: ${failed} failed, more than its budget of ${wave.maxFailures}`);
      return { release: [], skip: [], timedOut, halted: true, done: false, currentWave: wave.name, awaitingApproval: false, reasons };
    }
    const settled = (m: ClusterStatus) =>
      m.state === 'SKIPPED' || m.state === 'FAILED' || timedOut.includes(m.cluster) || (m.state === 'HEALTHY' && m.healthySince !== undefined && now - m.healthySince >= wave.soakMs);
    if (members.every(settled)) continue;

    // This is the current wave.
    for (const m of members) {
      if (m.state === 'HEALTHY' && m.healthySince !== undefined && now - m.healthySince < wave.soakMs) soonest(wave.soakMs - (now - m.healthySince));
      if (m.state === 'RELEASED' && m.releasedAt !== undefined && !timedOut.includes(m.cluster)) soonest(wave.progressDeadlineMs - (now - m.releasedAt));
    }
    const started = members.some((m) => m.state !== 'PENDING');
    if (wave.approval && !started && !approvedWaves.has(wave.name)) {
      reasons.push(`wave ${wave.name} awaits approval`);
      return { release: [], skip: [], timedOut, halted: false, done: false, currentWave: wave.name, awaitingApproval: true, reasons, recheckAfterMs: recheck };
    }
    const inFlight = members.filter((m) => m.state === 'RELEASED' && !timedOut.includes(m.cluster)).length;
    let free = wave.maxConcurrency - inFlight;
    const release: string[] = [];
    const skip: string[] = [];
    for (const m of members) {
      if (m.state !== 'PENDING') continue;
      if (!m.online) {
        if (plan.offlineClusters === 'skip') {
          skip.push(m.cluster);
          continue;
        }
        if (plan.offlineClusters === 'wait') {
          const offlineFor = m.lastSeenAt === undefined ? Number.POSITIVE_INFINITY : now - m.lastSeenAt;
          if (offlineFor >= plan.offlineDeadlineMs) {
            skip.push(m.cluster);
            reasons.push(`${m.cluster} offline past the ${plan.offlineDeadlineMs} ms deadline: skipped`);
          } else {
            soonest(plan.offlineDeadlineMs - offlineFor);
            reasons.push(`${m.cluster} is offline: waiting`);
          }
          continue;
        }
        reasons.push(`${m.cluster} is offline: the rollout is blocked until it returns`);
        continue;
      }
      if (free <= 0) continue;
      release.push(m.cluster);
      free--;
    }
    if (release.length === 0 && inFlight > 0) reasons.push(`wave ${wave.name}: ${inFlight} in flight`);
    return { release, skip, timedOut, halted: false, done: false, currentWave: wave.name, awaitingApproval: false, reasons, recheckAfterMs: recheck };
  }
  return { release: [], skip: [], timedOut: [], halted: false, done: true, awaitingApproval: false, reasons: ['every wave is done'] };
}
