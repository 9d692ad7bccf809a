import type { RolloutLiveFragment } from '../gen/graphql';

export type WaveState = 'done' | 'current' | 'waiting' | 'stopped';

const ACTIVE = new Set(['PROGRESSING', 'PAUSED']);

/** Whether a rollout can still move (PROGRESSING or PAUSED). */
export function isActive(phase: string): boolean {
  return ACTIVE.has(phase);
}

/**
 * Where each wave stands, in the rollout's order: the current wave of an active rollout is `current`,
 * waves before it `done`, after it `waiting`; a finished rollout's waves are `done` when every target
 * settled and `stopped` otherwise.
 */
export function waveStates(rollout: Pick<RolloutLiveFragment, 'phase' | 'currentWave' | 'waves'>): WaveState[] {
  const currentIndex = rollout.waves.findIndex((wave) => wave.name === rollout.currentWave);
  return rollout.waves.map((wave, index) => {
    if (!isActive(rollout.phase)) {
      const settled = wave.counts.pending === 0 && wave.counts.progressing === 0;
      return settled ? 'done' : 'stopped';
    }
    if (currentIndex < 0) return 'waiting';
    if (index < currentIndex) return 'done';
    return index === currentIndex ? 'current' : 'waiting';
  });
}

/** One gate of a wave as the page says it: what the wave waits on, or what holds. */
export interface WaveGate {
  readonly text: string;
  /** True when the gate holds the wave now (shown as a warning). */
  readonly holding: boolean;
}

type GateWave = Pick<RolloutLiveFragment['waves'][number], 'approval' | 'approved' | 'soakMs' | 'soakEndsAt' | 'maxFailures' | 'counts' | 'offlineClusters' | 'offlineClusterCount' | 'clusters' | 'maxConcurrency'>;

const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))} s`;
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * The gates of a wave in `state` at `now` (ms since epoch): its size, the approval it needs, its soak
 * (with the time left while the current wave soaks), its failure budget and the offline clusters it
 * waits for. Only a wave that can still move is said to be held.
 */
export function waveGates(wave: GateWave, state: WaveState, now: number): WaveGate[] {
  const open = state === 'current' || state === 'waiting';
  const gates: WaveGate[] = [{ text: `${plural(wave.clusters.length, 'cluster')}, ${wave.maxConcurrency} at a time`, holding: false }];
  if (wave.approval) gates.push(wave.approved ? { text: 'Approved', holding: false } : { text: 'Needs approval', holding: open });
  if (wave.soakMs > 0) {
    const left = wave.soakEndsAt ? Date.parse(wave.soakEndsAt) - now : undefined;
    if (state === 'current' && left !== undefined && left > 0) gates.push({ text: `Soaking: ${seconds(left)} left of ${seconds(wave.soakMs)}`, holding: true });
    else gates.push({ text: `Soak ${seconds(wave.soakMs)}`, holding: false });
  }
  const breached = wave.counts.failed > wave.maxFailures;
  gates.push({ text: `Failures ${wave.counts.failed} of ${wave.maxFailures} allowed${breached ? ': budget breached' : ''}`, holding: breached && open });
  if (wave.offlineClusterCount > 0) {
    const more = wave.offlineClusterCount - wave.offlineClusters.length;
    const names = wave.offlineClusters.join(', ') + (more > 0 ? ` and ${more} more` : '');
    gates.push({ text: `Waiting for ${plural(wave.offlineClusterCount, 'offline cluster')}: ${names}`, holding: open });
  }
  return gates;
}
