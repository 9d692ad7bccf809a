import { truncateText, type Health } from '@flotilla/proto';
import type { Condition } from './read.js';

/** The health of one live object and a short, human reason for it. */
export interface ResourceJudgement {
  readonly health: Health;
  /** One line, at most {@link MAX_JUDGEMENT_CHARS} characters. */
  readonly message: string;
}

/** Longest judgement message. Messages quote controller text (condition messages), so they are cut. */
export const MAX_JUDGEMENT_CHARS = 256;

/** A judgement whose message is one line (whitespace runs collapsed) and cut to {@link MAX_JUDGEMENT_CHARS}. */
export function judged(health: Health, message: string): ResourceJudgement {
  return { health, message: truncateText(message.replace(/\s+/g, ' ').trim(), MAX_JUDGEMENT_CHARS) };
}

/** `reason: message` of a condition, whichever parts it has; `fallback` when it has neither. */
export function describeCondition(condition: Condition, fallback = ''): string {
  const parts = [condition.reason, condition.message].filter((part) => part !== '');
  return parts.length > 0 ? parts.join(': ') : fallback;
}

/**
 * A duration for people: `45s`, `12m`, `3h5m`, `2d4h`. Negative durations (clock skew between the agent
 * and the API server) read as `0s`.
 */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
}

/** `1 pod`, `3 pods`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
