/** Tones a state is shown in; every tone also carries its text, never colour alone. */
export type Tone = 'good' | 'bad' | 'busy' | 'idle' | 'warn';

const TONE_MARK: Record<Tone, string> = { good: '●', bad: '✕', busy: '◐', idle: '○', warn: '▲' };

/** A state as a mark, a colour and its words. */
export function Status({ tone, text }: { tone: Tone; text: string }) {
  return (
    <span className={`status status-${tone}`}>
      <span aria-hidden="true">{TONE_MARK[tone]} </span>
      {text}
    </span>
  );
}

const HEALTH_TONE: Record<string, Tone> = { HEALTHY: 'good', DEGRADED: 'bad', MISSING: 'bad', PROGRESSING: 'busy', SUSPENDED: 'idle', UNKNOWN: 'idle' };
const SYNC_TONE: Record<string, Tone> = { SYNCED: 'good', FAILED: 'bad', APPLYING: 'busy', OUT_OF_SYNC: 'warn', UNKNOWN: 'idle' };
const PHASE_TONE: Record<string, Tone> = {
  PROGRESSING: 'busy',
  PAUSED: 'warn',
  SUCCEEDED: 'good',
  NOTHING_TO_DO: 'good',
  FAILED: 'bad',
  ABORTED: 'bad',
  ROLLED_BACK: 'warn',
  SUPERSEDED: 'idle',
};
const TARGET_TONE: Record<string, Tone> = { HEALTHY: 'good', FAILED: 'bad', PROGRESSING: 'busy', PENDING: 'idle', SKIPPED: 'warn', SUPERSEDED: 'idle' };

export function words(value: string): string {
  const lower = value.toLowerCase().replace(/_/g, ' ');
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

export const healthTone = (health: string): Tone => HEALTH_TONE[health] ?? 'idle';
export const syncTone = (sync: string): Tone => SYNC_TONE[sync] ?? 'idle';
export const phaseTone = (phase: string): Tone => PHASE_TONE[phase] ?? 'idle';
export const targetTone = (state: string): Tone => TARGET_TONE[state] ?? 'idle';
