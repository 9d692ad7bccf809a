import type { RolloutPhaseName } from './exit-codes.js';

/** Counts of targets by state, as the API answers them. */
export interface TargetCounts {
  readonly total: number;
  readonly pending: number;
  readonly progressing: number;
  readonly healthy: number;
  readonly failed: number;
  readonly skipped: number;
  readonly superseded: number;
}

/** What the live view needs of a rollout (the `RolloutProgressFields` fragment). */
export interface RolloutProgressView {
  readonly id: string;
  readonly appSet: string;
  readonly phase: RolloutPhaseName;
  readonly currentWave: string | null;
  readonly reason: string;
  readonly counts: TargetCounts;
  readonly waves: readonly { readonly name: string; readonly approval: boolean; readonly approved: boolean; readonly counts: TargetCounts }[];
}

/** One wave as a bar shows it. */
export interface WaveProgress {
  readonly name: string;
  readonly total: number;
  /** healthy + failed + skipped: the targets that are settled. */
  readonly settled: number;
  readonly healthy: number;
  readonly failed: number;
  readonly skipped: number;
  readonly current: boolean;
  /** A short note: `awaits approval`, `paused`, or the rollout's reason on the current wave. */
  readonly note: string;
}

/** Per wave, in plan order: what the bars draw. */
export function waveProgress(view: RolloutProgressView): WaveProgress[] {
  return view.waves.map((wave) => {
    const current = wave.name === view.currentWave && !isFinished(view.phase);
    let note = '';
    if (current && view.reason) note = view.reason;
    else if (wave.approval && !wave.approved && wave.counts.pending === wave.counts.total && !isFinished(view.phase)) note = 'awaits approval';
    const { total, healthy, failed, skipped } = wave.counts;
    return { name: wave.name, total, settled: healthy + failed + skipped, healthy, failed, skipped, current, note };
  });
}

/**
 * One line for a non-terminal (CI) log: the phase, each wave's healthy/failed/skipped of total (the
 * current one marked with `*`), and the reason. The watcher prints it whenever it changes.
 */
export function progressLine(view: RolloutProgressView): string {
  const waves = waveProgress(view).map((w) => {
    const extra = [w.failed ? `${w.failed} failed` : '', w.skipped ? `${w.skipped} skipped` : ''].filter(Boolean).join(', ');
    return `${w.current ? '*' : ''}${w.name} ${w.healthy}/${w.total}${extra ? ` (${extra})` : ''}`;
  });
  const reason = view.reason ? ` - ${view.reason}` : '';
  return `rollout ${view.id} ${view.phase}: ${waves.join(', ')}${reason}`;
}

/** True for the phases a rollout never leaves. */
export function isFinished(phase: RolloutPhaseName): boolean {
  return phase !== 'PROGRESSING' && phase !== 'PAUSED';
}
